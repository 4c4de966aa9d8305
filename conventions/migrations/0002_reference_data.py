"""Reference data: the 101 Départements and 18 regions, the programmes, the Chorus codes and the
national catalogue of thèmes (``fixtures/reference/*.json``). Idempotent: re-running updates."""

import json
from pathlib import Path

from django.db import migrations

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "reference"


def load_reference(apps, schema_editor):
    Region = apps.get_model("conventions", "Region")
    Department = apps.get_model("conventions", "Department")
    Programme = apps.get_model("conventions", "Programme")
    ChorusCode = apps.get_model("conventions", "ChorusCode")
    Theme = apps.get_model("conventions", "Theme")

    geography = json.loads((REFERENCE / "departments.json").read_text(encoding="utf-8"))
    regions = {}
    for row in geography["regions"]:
        regions[row["code"]], _ = Region.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "of_name": row["of_name"]}
        )
    for row in geography["departments"]:
        Department.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "of_name": row["of_name"],
                "region": regions[row["region"]],
            },
        )

    catalogue = json.loads((REFERENCE / "catalogue.json").read_text(encoding="utf-8"))
    programmes = {}
    for row in catalogue["programmes"]:
        programmes[row["code"]], _ = Programme.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "start_year": row["start_year"],
                "end_year": row["end_year"],
            },
        )
    chorus_codes = {}
    for row in catalogue["chorus_codes"]:
        chorus_codes[row["code"]], _ = ChorusCode.objects.update_or_create(
            code=row["code"], defaults={"description": row["description"]}
        )
    for row in catalogue["themes"]:
        Theme.objects.update_or_create(
            programme=programmes[row["programme"]],
            code=row["code"],
            defaults={
                "label": row["label"],
                "short_label": row["short_label"],
                "block": row["block"],
                "is_optional": row["optional"],
                "position": row["position"],
                "chorus_code": chorus_codes[row["chorus"]] if row["chorus"] else None,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("conventions", "0001_initial")]

    operations = [migrations.RunPython(load_reference, migrations.RunPython.noop)]
