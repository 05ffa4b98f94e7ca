# Rooms: `make run` for a first look, `make test` for everything CI checks.
# Needs GNU make, Python 3.11 with its headers and a C compiler (the SFU's forwarding loop is
# C, built by the install); nothing outside this directory. `make test-newest` also needs
# Python 3.13 with its headers (found on PATH or among pyenv's versions).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: venv venv-newest run test test-newest test-hostsite lint migrations-check clean \
	chromium coturn gettext messages bench bench-smoke

venv: $(VENV)/.installed

# The stamp depends on pyproject.toml, so changed dependencies are installed on the next run,
# and on the SFU's C forwarding loop, which the install compiles (setup.py).
$(VENV)/.installed: pyproject.toml setup.py rooms/sfu/fastpath.c rooms/sfu/fastpath.h \
		rooms/sfu/fastpath_build.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The package is `rooms` alone; the reference site (config, accounts, feed) and the tests
	# are imported from this checkout, as by manage.py, daphne and the Celery worker.
	$(BIN)/python -c "import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path('purelib'), 'rooms-checkout.pth').write_text(sys.argv[1] + '\n')" "$(CURDIR)"
	touch $@

# The newest supported pair, Python 3.13 + Django 6.1, in a virtualenv of its own (`make venv` is
# the oldest: Python 3.11 resolves Django 5.2). The install compiles the C loop again, for 3.13.
ifndef PYTHON_NEWEST
PYTHON_NEWEST := $(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null \
	|| ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1)
endif
VENV_NEWEST := .venv-newest
DJANGO_NEWEST := Django>=6.1,<6.2

venv-newest: $(VENV_NEWEST)/.installed

$(VENV_NEWEST)/.installed: pyproject.toml setup.py rooms/sfu/fastpath.c rooms/sfu/fastpath.h \
		rooms/sfu/fastpath_build.py
	@test -n "$(PYTHON_NEWEST)" || { echo "make venv-newest needs Python 3.13 (python3.13 on PATH, or PYTHON_NEWEST=...)" >&2; exit 1; }
	test -x $(VENV_NEWEST)/bin/python || $(PYTHON_NEWEST) -m venv $(VENV_NEWEST)
	$(VENV_NEWEST)/bin/python -m pip install --quiet -e ".[dev]" "$(DJANGO_NEWEST)"
	$(VENV_NEWEST)/bin/python -c "import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path('purelib'), 'rooms-checkout.pth').write_text(sys.argv[1] + '\n')" "$(CURDIR)"
	touch $@

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Rooms is running at http://127.0.0.1:8000/ — log in as alice / rooms-demo-2026 (admin: admin / rooms-demo-2026 at /admin/)"
	# daphne plus the periodic sweep (reminders, no-shows, idle rooms): see config/embedded.py
	exec $(BIN)/python -m config.embedded -b 127.0.0.1 -p 8000 config.asgi:application

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

# The browser tests drive Debian's Chromium (no browser download); install it when missing.
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Translations (docs/i18n.md). gettext's tools (xgettext, msgmerge, msgfmt) are Debian's.
gettext:
	@command -v msgfmt >/dev/null && command -v xgettext >/dev/null \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y gettext)

# The languages shipped besides English (the source language, which needs no catalog).
LOCALES := ar fr
MAKEMESSAGES = makemessages --no-obsolete --add-location file $(foreach l,$(LOCALES),-l $(l))

# Extract every marked string into the catalogs, then compile them (the .mo files are committed,
# so a wheel and a clean clone carry them; tests/test_i18n.py checks they are in step). Rooms'
# own catalogs ship in the package (rooms/locale/); the reference site's are in locale/.
messages: venv gettext
	cd rooms && ../$(BIN)/python ../manage.py $(MAKEMESSAGES) -d django
	cd rooms && ../$(BIN)/python ../manage.py $(MAKEMESSAGES) -d djangojs
	$(BIN)/python manage.py $(MAKEMESSAGES) -d django $(SITE_IGNORE)
	$(BIN)/python manage.py $(MAKEMESSAGES) -d djangojs $(SITE_IGNORE)
	cd rooms && ../$(BIN)/python ../manage.py compilemessages
	$(BIN)/python manage.py compilemessages --ignore rooms --ignore '.venv*'
SITE_IGNORE := --ignore rooms --ignore staticfiles --ignore tests --ignore bench --ignore deploy \
	--ignore docs --ignore '.venv*'

# The TURN test (tests/rooms/test_turn_relay.py) runs Debian's coturn as a process of its own,
# configured as docs/coturn.md says; the system service is not wanted: stop it where systemd
# started it on install (elsewhere /etc/default/coturn leaves it off).
coturn:
	@test -x /usr/bin/turnserver || (apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y coturn \
		&& if [ -d /run/systemd/system ]; then systemctl disable --now coturn; fi)

# pytest runs last, so the output ends with its summary line.
test: venv lint migrations-check chromium coturn gettext
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite on the newest pair, without the browser tests (the same Chromium and page either
# way: `make test` runs them); the models must need no migration under Django 6 either.
test-newest: venv-newest coturn
	$(VENV_NEWEST)/bin/python manage.py makemigrations --check --dry-run
	$(VENV_NEWEST)/bin/pytest --ignore=tests/browser $(PYTEST_ARGS)

# A second, unrelated Django site (tests/hostsite/) against the built wheel installed in a fresh
# virtualenv outside this tree (tests/hostsite/run.sh): Rooms as an operator installs it.
test-hostsite:
	tests/hostsite/run.sh $(PYTEST_ARGS)

# Media benchmark (bench/README.md): ours and Janus, room sizes 2..50, ~10-15 min. Not a test.
bench: venv
	command -v janus >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y janus)
	PYTHONPATH=. $(BIN)/python -m bench.media

# A few seconds, 2 bots, our stack only; tests/test_bench_smoke.py runs it with the suite.
bench-smoke: venv
	PYTHONPATH=. $(BIN)/python -m bench.media --smoke

clean:
	rm -rf $(VENV) $(VENV_NEWEST) staticfiles .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info build
	rm -f rooms/sfu/_fastpath.*
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
