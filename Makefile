# GridHall — two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/demo/district.sqlite
APT_PACKAGES := python3-qgis qgis-providers libsqlite3-mod-spatialite postgresql-15-postgis-3 \
	xvfb xauth fonts-wqy-microhei poppler-utils python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export QGIS_NO_OVERRIDE_IMPORT := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup apt venv run test test-pyqt test-pyside lint bench screenshot demo clean

setup: apt venv

# Install the Debian packages that are missing (idempotent; one dpkg query when all are there).
apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/bin/python:
	/usr/bin/python3 -m venv --system-site-packages $(VENV)

# pip never replaces numpy or PyQt5: constraints.txt pins them at Debian's versions.
$(VENV)/.installed: $(VENV)/bin/python setup.cfg constraints.txt pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,pyside6]'
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
	QT_QPA_PLATFORM=offscreen $(PY) main.py --db $(DB) --screenshot docs/screenshot.png --size 1920x1080

lint: setup
	$(VENV)/bin/ruff check app plugins data tests main.py bench
	$(VENV)/bin/lint-imports

test-pyqt: setup
	QT_QPA_PLATFORM=offscreen QT_API=pyqt5 PYTEST_QT_API=pyqt5 $(PY) -m pytest -q

# Binding-neutral widgets run a second time on PySide6 (a separate process: one Qt per process).
test-pyside: setup
	QT_QPA_PLATFORM=offscreen QT_API=pyside6 PYTEST_QT_API=pyside6 $(PY) -m pytest -q -m neutral tests/ui tests/plugin

test: lint test-pyqt test-pyside

bench: setup $(DB)
	QT_QPA_PLATFORM=offscreen $(PY) -m bench --db $(DB)
	$(PY) -m bench.live

clean:
	rm -rf $(VENV) data/demo build *.egg-info
