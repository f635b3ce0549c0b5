# Developer shortcuts; CI runs the README's Quickstart test line (.ci/run).
PY ?= .venv/bin/python

.PHONY: test test-full lint

test:
	$(PY) -m pytest -n 2 -m "not slow"

test-full:
	$(PY) -m pytest -n 2

lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
