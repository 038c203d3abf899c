# GridHall — two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/demo/district.sqlite
# tools/setup-apt.sh adds the distribution's PostgreSQL and the PostGIS package of its major.
APT_PACKAGES := python3-qgis qgis-providers libsqlite3-mod-spatialite xvfb xauth fonts-wqy-microhei \
	poppler-utils python3-venv qttranslations5-l10n python3-pil
CONSTRAINTS := build/constraints.txt
SUITE ?= bookworm
export QGIS_NO_OVERRIDE_IMPORT := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup apt venv run test test-pyqt test-pyside test-debian lint bench screenshot demo clean distclean

setup: apt venv

# Install the Debian packages that are missing (dpkg queries only, no apt-get update, when all are there).
apt:
	@tools/setup-apt.sh $(APT_PACKAGES)

venv: $(VENV)/.installed

$(VENV)/bin/python: | apt
	/usr/bin/python3 -m venv --system-site-packages $(VENV)

# pip never replaces numpy, PyQt5, PyQt5-sip or another compiled package of QGIS's Python stack: the
# constraints pin them at the versions this system has. Regenerated whenever dpkg's database changes
# (rewritten only when the pins differ, so the venv reinstalls only then).
$(CONSTRAINTS): tools/gen-constraints.py /var/lib/dpkg/status | apt
	/usr/bin/python3 tools/gen-constraints.py $@

$(VENV)/.installed: $(VENV)/bin/python setup.cfg pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install -q --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev,pyside6]'
	touch $@

$(DB): | setup
	mkdir -p $(dir $(DB))
	$(PY) -m app demo --db $(DB)

demo: setup $(DB)

# An existing demo database is brought to the newest schema first (a no-op when it is current).
run: setup $(DB)
	$(PY) -m app db upgrade --db $(DB) >/dev/null
	$(PY) main.py --db $(DB)

screenshot: setup $(DB)
	$(PY) -m app db upgrade --db $(DB) >/dev/null
	QT_QPA_PLATFORM=offscreen $(PY) main.py --db $(DB) --screenshot docs/screenshot.png --size 1920x1080

# mypy: the packages and strictness are in setup.cfg [mypy]; its cache (build/mypy) makes reruns quick.
lint: setup
	$(VENV)/bin/ruff check app plugins data tests main.py bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test-pyqt: setup
	QT_QPA_PLATFORM=offscreen QT_API=pyqt5 PYTEST_QT_API=pyqt5 $(PY) -m pytest -q $(PYTEST_ARGS)

# Binding-neutral widgets run a second time on PySide6 (a separate process: one Qt per process).
test-pyside: setup
	QT_QPA_PLATFORM=offscreen QT_API=pyside6 PYTEST_QT_API=pyside6 $(PY) -m pytest -q -m neutral tests/ui tests/plugin

test: lint test-pyqt test-pyside

# Figures, not pass/fail; each is also merged into build/bench.json (bench/figures.py).
# ONLY=map|queue|demo|live|desk|search (or a comma-separated list) runs those groups alone.
bench: setup $(DB)
	$(PY) -m app db upgrade --db $(DB) >/dev/null
	QT_QPA_PLATFORM=offscreen $(PY) -m bench --db $(DB) $(if $(ONLY),--only $(ONLY))

# `make test` in a clean Debian chroot (SUITE=bookworm or trixie), on a clean checkout of HEAD.
# REUSE=1 keeps the previous run's chroot (its Debian packages) and only replaces the checkout;
# TARGET=screenshot runs another target inside instead of test.
# `make test-debian SUITE=trixie REUSE=1 TARGET="test-pyqt PYTEST_ARGS=tests/reports"`: some tests only.
test-debian:
	REUSE='$(REUSE)' TARGET='$(TARGET)' tools/test-debian.sh $(SUITE)

# Keeps test-debian's base systems, chroots and downloads in build/ (distclean removes them too).
clean:
	rm -rf $(VENV) data/demo *.egg-info
	[ ! -d build ] || find build -mindepth 1 -maxdepth 1 ! -name 'chroot-*' ! -name 'cache-*' \
		! -name 'debian-*-base.tar' -exec rm -rf {} +

distclean: clean
	rm -rf --one-file-system build
