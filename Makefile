# Two entry points for a fresh machine; each creates .venv and installs requirements.txt first.
#   make course   run the whole course (notebooks 01-05) on the offline default profile
#   make test     lint + unit tests + every notebook under the smoke profile (what CI runs)
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default

.PHONY: install course test lab clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

course: install
	$(PY) -m helpers course --profile $(PROFILE)

test: install
	$(VENV)/bin/ruff check .
	LAB_PROFILE=smoke $(PY) -m pytest --nbval-lax --nbval-current-env

lab: install
	cd notebooks && ../$(VENV)/bin/jupyter lab

clean:
	rm -rf outputs
