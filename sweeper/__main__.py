"""`python -m sweeper` and the `sweeper` script: `sweeper.cli.cli`, imported with the cyclic
garbage collector off.

Importing torch, pandas, Hydra and matplotlib allocates about a million objects, and
the cyclic collector would traverse all of them again and again while they load, then
once more at exit. None of it is garbage: collect nothing while importing, then freeze
what survived so that later collections (and the one at interpreter exit) skip it.
~0.45 s of every process. Only the entrypoint does this; `import sweeper` elsewhere
leaves the collector alone.
"""

import gc

gc.disable()
try:
    from sweeper.cli import cli  # noqa: E402 (after gc.disable: the point of this module)
finally:
    gc.freeze()
    gc.enable()

__all__ = ["cli"]

if __name__ == "__main__":
    cli()
