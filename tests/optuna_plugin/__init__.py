# Copyright (c) Facebook, Inc. and its affiliates. All Rights Reserved
"""hydra-optuna-sweeper v1.3.5's tests (MIT licence), adapted to sweeper's search sweeper.

Copied from plugins/hydra_optuna_sweeper/tests/__init__.py; a package, so that pytest
names the test module optuna_plugin.test_optuna_sweeper_plugin and puts no folder
of this one (example/, conf/) on sys.path.
"""
