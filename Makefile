# CALPAE — commandes de développement. Voir README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run install migrate demo serve test test-fast lint format smoke clean browser-deps office-deps bench synthetic backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo --reset-passwords

## make run: installe, migre, charge les données de démonstration et sert http://127.0.0.1:$(PORT)
## (avec le générateur de documents en arrière-plan, manage.py db_worker, journal var/worker.log)
run: demo
	@echo "CALPAE : http://127.0.0.1:$(PORT)/ (Ctrl+C pour arrêter)"
	@echo "Générateur de documents : manage.py db_worker (journal : var/worker.log)"
	$(BIN)/python manage.py db_worker --no-reload > var/worker.log 2>&1 & \
	trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

serve: install
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## make test: toute la suite (SQLite par défaut, PostgreSQL si DATABASE_URL est défini) ; les
## tests dans le navigateur (tests/browser) sont ignorés sans Chromium : voir make browser-deps
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make browser-deps: installe Chromium (paquet Debian « chromium ») pour les tests dans le navigateur
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Chromium déjà installé : $(CHROMIUM)"; \
	else \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
		echo "Installation de Chromium depuis les paquets Debian :"; \
		echo "  $${sudo:+$$sudo }apt-get update"; \
		echo "  $${sudo:+$$sudo }env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium"; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium && \
		echo "Chromium installé : $(CHROMIUM)"; \
	fi

## make office-deps: installe LibreOffice Calc sans interface (paquet Debian) pour vérifier que
## les XLSX s'ouvrent dans un tableur (tests/test_xlsx_libreoffice.py)
office-deps:
	@if command -v soffice >/dev/null 2>&1; then \
		echo "LibreOffice déjà installé : $$(command -v soffice)"; \
	else \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
		echo "Installation de LibreOffice Calc depuis les paquets Debian :"; \
		echo "  $${sudo:+$$sudo }env DEBIAN_FRONTEND=noninteractive apt-get install -y libreoffice-calc-nogui"; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libreoffice-calc-nogui && \
		echo "LibreOffice installé : $$(command -v soffice)"; \
	fi

## make bench: temps et mémoire de génération des documents officiels de la démonstration, côte à
## côte avec LibreOffice (XLSX → PDF, make office-deps) et XlsxWriter ; import d'un grand tableau ;
## puis, dans un PostgreSQL jetable (.ci/bench-national), les données synthétiques de 101
## Départements, les pages à cette échelle et un test de charge (gunicorn et Locust sur 127.0.0.1,
## 20 utilisateurs, 30 s : BENCH_LOAD_ARGS="--duration 60 --think 1" pour le changer)
BENCH_LOAD_ARGS ?= --duration 30 --users 20
export BENCH_LOAD_ARGS SYNTHETIC_ARGS
bench: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py bench_documents
	$(BIN)/python manage.py bench_import
	bash .ci/bench-national

## make synthetic: données synthétiques à l'échelle nationale (101 Départements × 5 ans ×
## 30 fiches × 40 indicateurs) à côté de la démonstration, dans la base de développement ;
## SYNTHETIC_ARGS="--departements 10" pour moins ; « generate_synthetic --reset --departements 0 »
## les supprime seules
synthetic: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py generate_synthetic --reset $(SYNTHETIC_ARGS)

## make backup: sauvegarde toute la base, fichiers générés et importés compris, dans var/backups/
## (PostgreSQL si DATABASE_URL est défini, sinon var/db.sqlite3) ; BACKUP=chemin pour un autre fichier
backup: install
	$(BIN)/python manage.py backup $(if $(BACKUP),--output "$(BACKUP)")

## make restore FILE=var/backups/calpae-….dump: restaure une sauvegarde dans une base vide ;
## FORCE=1 pour remplacer les données d'une base qui en contient (application arrêtée)
restore: install
	@if [ -z "$(FILE)" ]; then \
		echo "Indiquez la sauvegarde à restaurer : make restore FILE=var/backups/calpae-…" >&2; \
		exit 2; \
	fi
	$(BIN)/python manage.py restore --input "$(FILE)" $(if $(FORCE),--force)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make smoke: « make run » depuis un clone neuf doit répondre en moins d'une minute
smoke:
	bash .ci/smoke-run

clean:
	rm -rf $(VENV) var
