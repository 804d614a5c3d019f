# The two Quickstart commands (see README.md) and a few helpers.
VENV ?= .venv
DATA ?= .grokassist
QUESTION ?= My dish says it is obstructed. What should I do?

.PHONY: demo test install lint typecheck

## Install grokassist, ingest the Starlink examples, answer a question (the default chain needs no model).
demo:
	bash scripts/install.sh core
	$(VENV)/bin/grokassist --data-dir $(DATA) ingest examples/starlink/docs --kb starlink
	$(VENV)/bin/grokassist --data-dir $(DATA) ask --kb starlink "$(QUESTION)"

## Install the test dependencies (system and Python), lint, type-check and run the whole suite.
test:
	bash scripts/install-system.sh
	bash scripts/install.sh dev
	$(MAKE) lint typecheck
	$(VENV)/bin/python -m pytest

install:
	bash scripts/install.sh core

lint:
	$(VENV)/bin/ruff check src tests bench integrations examples
	$(VENV)/bin/ruff format --check src tests bench integrations examples

typecheck:
	$(VENV)/bin/mypy
