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
# real package behind the virtual libz-dev, so the installed check finds it), and the tools
# the tests use (systemd-analyze, prlimit, inotify on procfs).
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev zlib1g-dev pkg-config systemd util-linux procps
VENV := .venv
PYTHON_REQUIREMENTS := requirements.txt

.PHONY: all setup setup-system setup-python build release test bench demo install clean

all: build

setup: setup-system setup-python

setup-system:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "setup: system packages present"; fi
	@command -v $(SWIFT) >/dev/null || { echo "setup: no Swift toolchain on PATH; install Swift 6.x from swift.org first"; exit 1; }

# The Python environment the renderer uses (MATHREEL_PYTHON); its packages are pinned in requirements.txt.
setup-python: $(VENV)/.installed

$(VENV)/.installed: $(PYTHON_REQUIREMENTS)
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3 python3-venv; }
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV) || { $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r $(PYTHON_REQUIREMENTS)
	@touch $@

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-xctest

bench: setup release
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
	@echo "next: systemd-sysusers && systemd-tmpfiles --create && chgrp mathreel $(CONFDIR)/mathreel.env && systemctl daemon-reload && systemctl enable --now mathreel.target"

clean:
	rm -rf .build .build-* $(VENV)
