"""Reference data: the national catalogue of indicators (``fixtures/reference/indicators.json``),
the rows of the national matrix template with their definitions. Idempotent."""

import json
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "reference" / "indicators.json"


def load_catalogue(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    Programme = apps.get_model("conventions", "Programme")
    Theme = apps.get_model("conventions", "Theme")

    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    programme = Programme.objects.get(code=catalogue["programme"])
    themes = {theme.code: theme for theme in Theme.objects.filter(programme=programme)}
    indicators = {}
    for row in catalogue["indicators"]:
        indicators[row["code"]], _ = Indicator.objects.update_or_create(
            programme=programme,
            department=None,
            code=row["code"],
            defaults={
                "label": row["label"],
                "definition": row["definition"],
                "unit": row["unit"],
                "direction": row["direction"],
                "theme": themes[row["theme"]],
            },
        )
    for row in catalogue["indicators"]:
        if row["parent"]:
            indicator = indicators[row["code"]]
            indicator.parent = indicators[row["parent"]]
            indicator.save(update_fields=["parent"])


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0001_initial"),
        ("conventions", "0002_reference_data"),
    ]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
