.PHONY: start test install bench

# Install Magazin and start the archive (web UI on http://127.0.0.1:8000/, CLI `magazin`)
start: install
	magazin init
	magazin serve

install:
	python3 -m pip install -q --disable-pip-version-check -e .

# Install the development tools and run lint + all tests (SQLite and PostgreSQL)
test:
	bash scripts/test.sh

bench:
	python3 -m pip install -q --disable-pip-version-check -e ".[dev,bench]"
	python3 bench/identify.py
	python3 bench/ingest.py
