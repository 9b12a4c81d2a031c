# vcred — every target bootstraps what it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := tests/interop/node_modules/.installed
CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all venv test demo lint typecheck bench fuzz clean node softhsm messages

all: test

# Just the .venv with the project, the server extras and the tools (then: . .venv/bin/activate).
venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,dev,hsm]'
	touch $(STAMP)

$(NODE_STAMP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here),
# with a Japanese font so the screenshots of the Japanese officer pages show their text.
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium chromium-driver \
	  || ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium chromium-driver)

# The HSM tests sign in a SoftHSM2 token (PKCS#11), Debian's package.
SOFTHSM := /usr/lib/softhsm/libsofthsm2.so
$(SOFTHSM):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends softhsm2 \
	  || ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends softhsm2)

softhsm: $(SOFTHSM)

# Japanese screenshots in the browser tests need a font with its glyphs.
JA_FONT := /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
$(JA_FONT):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends fonts-ipafont-gothic \
	  || ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends fonts-ipafont-gothic)

# The load generator of the services' bench rows (make bench, and tests/test_bench.py).
WRK := /usr/bin/wrk
$(WRK):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends wrk \
	  || ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends wrk)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM) $(SOFTHSM) $(JA_FONT) $(WRK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

demo: $(STAMP)
	$(BIN)/vcred demo

# The officer pages' catalogs: extract every message (babel.cfg), merge new ones into each
# vcred_service/translations/<locale>.po for translators. The .po files are the only form
# kept: vcred_service/i18n.py compiles them when the services start.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header -o messages.pot .
	for locale in de fr es ja; do \
	  $(BIN)/pybabel update --no-fuzzy-matching -l $$locale -i messages.pot \
	    -o vcred_service/translations/$$locale.po || exit 1; done
	rm messages.pot

# One process run: every operation beside its floor; the load tests need PostgreSQL up.
bench: $(STAMP) $(NODE_STAMP) $(WRK)
	$(BIN)/python -m bench

# Coverage-guided fuzzing (atheris), bounded: every target for FUZZ_SECONDS (not part of `test`).
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/pip install --quiet 'atheris>=2.3'
	$(BIN)/python -m fuzz --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) tests/interop/node_modules .pytest_cache .mypy_cache .ruff_cache
