import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "domain" / "data"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the reference data (migrations) and the demo data."""
    with django_db_blocker.unblock():
        call_command("load_demo", verbosity=0, stdout=io.StringIO())


@pytest.fixture(scope="session")
def shared_data():
    """The extracts of the official documents (``../shared/domain/data``), to compare with."""

    def load(name: str) -> dict:
        path = SHARED_DATA / name
        if not path.exists():
            pytest.fail(f"Données de référence introuvables : {path}")
        return json.loads(path.read_text(encoding="utf-8"))

    return load
