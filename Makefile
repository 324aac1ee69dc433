# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean venv browser postgres conformance interop

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: $(STAMP) lint browser postgres interop
	$(PY) -m pytest

# Static checks (configured in pyproject.toml); `make test` runs them first.
lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m mypy src

# The passport tests render the page in a real headless Chromium and look at the printed PDF
# with poppler's pdftoppm/pdftotext (Debian packages). Install them when we can (root +
# apt-get); otherwise say so, and those tests skip with the reason.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium and poppler-utils (for the passport browser and print tests)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null) \
			|| echo "note: installing chromium/poppler-utils failed; the passport browser and print tests will be skipped"; \
	else \
		echo "note: chromium or poppler-utils not installed and cannot install them here (needs root and apt-get); the passport browser and print tests will be skipped"; \
	fi

# Interop peers (other implementations, pinned by each folder's package-lock.json): for every
# tests/interop/NAME/ with a lock file, `npm ci` installs the packages into .interop/NAME/ (outside
# tests/, so third-party code never sits among our tests) when the lock file changed; the tests
# copy NAME's scripts beside them (tests/interop_support.py). The interop tests skip with the
# reason only when Node.js itself is missing; with Node present and the peers not installed they fail.
interop:
	@if command -v npm >/dev/null 2>&1; then \
		for d in tests/interop/*/; do \
			[ -f "$$d/package-lock.json" ] || continue; \
			t=".interop/$$(basename "$$d")"; \
			if [ ! -f "$$t/node_modules/.package-lock.json" ] || ! cmp -s "$$d/package-lock.json" "$$t/package-lock.json"; then \
				echo "installing interop peers of $$d in $$t"; \
				mkdir -p "$$t" && cp "$$d/package.json" "$$d/package-lock.json" "$$t/" && \
				(cd "$$t" && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
			fi; \
		done; \
	else \
		echo "note: npm not found; the interop tests against other implementations will be skipped"; \
	fi

# The PostgreSQL registry tests start their own throwaway cluster (initdb + pg_ctl, as a non-root
# user, on a free loopback port) from the Debian package. Install it when we can (root + apt-get);
# otherwise say so, and those tests skip with the reason.
postgres:
	@if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing postgresql (for the PostgreSQL registry tests)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
			|| echo "note: installing postgresql failed; the PostgreSQL registry tests will be skipped"; \
	else \
		echo "note: PostgreSQL is not installed and cannot be installed here (needs root and apt-get); the PostgreSQL registry tests will be skipped"; \
	fi

# The official W3C suites against `skillcred serve`, on loopback (not part of `make test`): needs
# the harness in ../shared/w3c-suites set up (W3C_SUITES=DIR for a writable copy); otherwise it
# says what is missing and exits 0. Nothing is fetched.
conformance: $(STAMP)
	SKILLCRED="$(CURDIR)/$(VENV)/bin/skillcred" bash scripts/conformance.sh

bench: $(STAMP)
	$(PY) benchmarks/sign_verify.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
