# One target per habit. `make test` is what CI runs (via .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install test lint demo serve bench
install:
	scripts/install.sh
test:
	scripts/test.sh
lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy
demo:
	scripts/demo.sh
serve:
	$(VENV)/bin/related serve
bench:
	$(PY) bench/bench_service.py --corpus ../shared/data/auth0_blog/articles.jsonl
