# Two commands for a fresh machine (see README.md):
#   make book   install everything pinned into .venv and build the HTML book into _build/html
#   make test   the same install, then the whole test suite
# Everything is installed from the package registries (PyPI, npm, Debian); nothing else is fetched.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip --disable-pip-version-check -qq
STAMP   := $(VENV)/.installed
# Vendored browser scripts, copied into the built book as _build/html/_static/vendor/ (html_extra_path
# in _config.yml). Not under ./_static: Jupyter Book puts every .js found there on every page.
VENDOR  := node_modules/.book-static/_static/vendor
JOBS    ?= 2

# PyTorch's OpenMP threads spin while waiting for work by default; when the test workers, the book
# build and notebook kernels share two cores, the spinning starves them (a 10 s cell took 95 s).
export OMP_WAIT_POLICY = PASSIVE

.PHONY: help install book serve test test-fast test-other-cpu test-gpu lint labs labs-check bench browser sandbox clean

help:
	@echo "make book   build the HTML book into _build/html (installs into .venv first)"
	@echo "make test   run every test: library, notebooks (nbval, twice: see test-other-cpu), labs,"
	@echo "            grading, book build"
	@echo "make test-other-cpu  the notebooks again with another CPU's kernels and one thread"
	@echo "make test-gpu   on a machine with CUDA: the GPU tests, and every notebook run on the GPU"
	@echo "make test-fast  the everyday loop: lint, then every test not marked slow (notebooks once)"
	@echo "make lint   ruff (pyflakes, pycodestyle, import order, Google docstrings) and mypy"
	@echo "make labs   regenerate labs/ from solutions/"
	@echo "make serve  preview the built book at http://localhost:$(PORT)/ (after make book)"
	@echo "make bench  print timing tables: notebooks, grading against nbgrader, book build (benchmarks/)"

install: $(STAMP) $(VENDOR)/.installed

# torch is pinned by itself first: 2.13.0 is a CPU build; an unpinned torch pulls a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e ".[dev,book]"
	touch $@

# MathJax, RequireJS and the widget manager come from npm and are served by the book itself.
# (npm ci empties node_modules, so the vendored copy is always rebuilt with it.) The widget manager
# looks its icon fonts up beside its RequireJS module URL, @jupyter-widgets/html-manager/dist/ under
# RequireJS's baseUrl, which _config.yml sets to _static/vendor/.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf _static/vendor && { rmdir _static 2>/dev/null || true; }  # the former location, see VENDOR
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp node_modules/requirejs/require.js $(VENDOR)/require.js
	cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js $(VENDOR)/embed-amd.js
	mkdir -p $(VENDOR)/@jupyter-widgets/html-manager/dist
	cd node_modules/@jupyter-widgets/html-manager/dist && \
	  cp *.woff2 *.woff *.ttf *.eot *.svg $(CURDIR)/$(VENDOR)/@jupyter-widgets/html-manager/dist/
	touch $@

# Headless Chromium (Debian package) renders the built pages in the browser tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Debian's bubblewrap is the sandbox student code runs in (`dlcourse grade` refuses without it).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  echo "installing Debian's bubblewrap, the autograder's sandbox"; \
	  apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }

book: install
	rm -rf _build
	$(VENV)/bin/jupyter-book build --all -W -n --keep-going .
	@echo
	@echo "The book is in _build/html: open file://$(CURDIR)/_build/html/index.html"

# A local preview of the built site, as a static host serves it (PORT=8000 by default).
PORT ?= 8000
serve:
	@test -f _build/html/index.html || { echo "no book in _build/html: run make book first"; exit 1; }
	@echo "serving _build/html at http://localhost:$(PORT)/ (Ctrl-C stops)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

labs: install
	$(PY) -m dlcourse labs build

labs-check: install
	$(PY) -m dlcourse labs build --check

# Notebooks run twice. First as this machine runs them; then with PyTorch forced onto its portable
# kernels and one thread, as another x86 machine (other vector instructions, other thread count)
# would run them: a stored output that changes between the two is not reproducible elsewhere.
NBVAL      := --nbval --nbval-current-env
NOTEBOOKS  := book solutions
OTHER_CPU  := ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

test: lint browser sandbox
	$(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL)
	$(MAKE) --no-print-directory test-other-cpu

test-fast: lint sandbox
	$(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL) -m "not slow"

lint: install
	$(VENV)/bin/ruff check dlcourse tests benchmarks
	$(VENV)/bin/mypy dlcourse

test-other-cpu: install
	$(OTHER_CPU) $(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL) -p no:cacheprovider $(NOTEBOOKS)

# The GPU lane: tests marked gpu (skipped by make test without CUDA), then every notebook with its
# models on the GPU (dlcourse.device() returns cuda), which must print the stored CPU outputs.
test-gpu: install
	@$(PY) -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'make test-gpu needs a CUDA device: torch.cuda.is_available() is False here')"
	$(PY) -m pytest -m gpu tests
	DLCOURSE_DEVICE=cuda $(PY) -m pytest -n $(JOBS) --dist loadfile $(NBVAL) -p no:cacheprovider $(NOTEBOOKS)

bench: install
	$(PY) benchmarks/notebook_times.py
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/book_build.py

clean:
	rm -rf _build $(VENDOR) .pytest_cache
