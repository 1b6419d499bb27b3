# Two entry points for a fresh machine; each creates .venv and installs requirements.txt first.
#   make course   run the whole course (notebooks 01-05) on the offline default profile
#   make test     lint + unit tests + every notebook under the smoke profile (what CI runs)
#   make site     the course as a website in outputs/site/ (notebooks with their outputs); PROFILE=smoke for CI's
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default
EXECUTE ?= auto

.PHONY: install course test lab site clean

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

# Reuses the executed notebooks of the last run of $(PROFILE) (outputs/$(PROFILE)/executed/), runs the missing ones
# (EXECUTE=never renders those without outputs); the last line printed is the path of index.html.
site: install
	$(PY) docs/build.py --profile $(PROFILE) --execute $(EXECUTE)

lab: install
	cd notebooks && ../$(VENV)/bin/jupyter lab

clean:
	rm -rf outputs
