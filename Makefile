# Two commands do all set-up (see README.md):
#   make book   -> .venv with pinned versions, execute every chapter, HTML in _build/html/
#                  (with results.json and external_validation.json, the public case's measures)
#   make test   -> the same set-up plus test dependencies, then pytest
# and one developer loop:
#   make check  -> the test suite without the book builds (pytest -m "not book"), under 2 minutes
# The cohort is chosen by DMNPC_DATA (default: the embedded synthetic twin).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
export DMNPC_DATA

.PHONY: book test check browser report lock clean clean-cache reference benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(LOCK) pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The execution cache keys on code cells only: it does not notice edits to dmnpc/,
# the cohort file or DMNPC_DATA. `python -m dmnpc prepare` drops the cache whenever any of
# them changed since the last build, so a rebuild never shows stale numbers.
book: $(STAMP)
	$(BIN)/python -m dmnpc prepare .
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python -m dmnpc report --out _build/html/results.json
	$(BIN)/python -m dmnpc external --out _build/html/external_validation.json
	$(BIN)/python -m dmnpc.book.buildtools notebooks _build/html/notebooks

test: $(STAMP) browser
	$(BIN)/python -m pytest

# Fast developer loop: everything but the tests marked `book` (whole-book builds).
check: $(STAMP)
	$(BIN)/python -m pytest -m "not book"

# The browser test opens the built pages in Debian's Chromium. Install it when it is
# missing and this machine allows it (root with apt); otherwise that one test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: chromium is not installed (apt-get install chromium); the browser test will be skipped"; \
	  fi; }

report: $(STAMP)
	$(BIN)/python -m dmnpc report --out results.json

reference:
	Rscript tests/reference/make_reference.R

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_validate.py

# Refresh the lock: resolve the newest versions allowed by pyproject.toml in a
# throw-away venv and freeze them. Commit the new requirements.lock, then rebuild
# the book from an empty cache and check the reproduction report.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	.lock-venv/bin/python -m pip install --quiet "setuptools>=68" ".[test]"
	.lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -vE "^(dmnpc|pip)( @ |==)" > $(LOCK)
	rm -rf .lock-venv

clean-cache:
	rm -rf _build/.jupyter_cache

clean:
	rm -rf _build
