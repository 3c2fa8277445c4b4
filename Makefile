.PHONY: start test install bench

PORT ?= 8000

# Install Magazin into .venv (`magazin` then on PATH), create the archive where there is none
# (MAGAZIN_HOME, default ~/.local/share/magazin) and start it: web UI on
# http://127.0.0.1:$(PORT)/ (`make start PORT=8080` for another port), CLI `magazin`
start: install
	.venv/bin/magazin init
	.venv/bin/magazin serve --port $(PORT)

install:
	bash scripts/venv.sh
	bash scripts/tools.sh

# Install the development tools into the same .venv and run lint + all tests (SQLite and
# PostgreSQL)
test:
	bash scripts/test.sh

bench:
	bash scripts/venv.sh dev,bench
	.venv/bin/python bench/identify.py
	.venv/bin/python bench/ingest.py
	.venv/bin/python bench/audit.py
	MAGAZIN_CEPH_BYTES=17179869184 bash -c '. scripts/ceph.sh; trap ceph_stop EXIT; \
	  .venv/bin/python bench/storage.py'
