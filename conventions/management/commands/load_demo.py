"""Load the demo data: Seine-et-Marne 2019-2023 and Allier 2019, from ``fixtures/demo/*.json``.

The files are built from the extracts of the official documents by
``fixtures/build/build_demo.py``; every object is created through the services, in one
transaction, so the demo data follows the same rules as data entered by hand.
"""

import datetime
import json
import secrets
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from actions.choices import BudgetKind
from actions.models import AMOUNT_FIELDS, Action
from actions.services import action_create, action_year_create, budget_set
from conventions.choices import AmendmentKind, Role
from conventions.models import (
    Convention,
    ConventionYear,
    Department,
    Membership,
    Programme,
    Region,
    RegionalReviewer,
    Theme,
)
from conventions.services import (
    amendment_create,
    convention_create,
    convention_year_open,
    state_envelope_create,
)
from indicators.choices import ValueStatus
from indicators.models import Indicator, MatrixEntry, Period
from indicators.services import (
    indicator_create,
    indicator_target_set,
    indicator_value_set,
    matrix_entry_create,
    period_create,
)

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEMO_FILES = ("seine-et-marne.json", "allier.json")
DEMO_ACCOUNTS = (
    # username, first name, last name, département, role, superuser
    ("agent77", "Agathe", "Martin", "77", Role.AGENT, False),
    ("referent77", "Romain", "Lefèvre", "77", Role.REFERENT, False),
    ("prefecture77", "Paul", "Durand", "77", Role.REVIEWER, False),
    ("admin77", "Hélène", "Moreau", "77", Role.ADMIN, False),
    ("agent03", "Anne", "Bernard", "03", Role.AGENT, False),
    # A reviewer of the préfecture de région, for every Département of Île-de-France.
    ("prefecture-idf", "Claire", "Petit", "IDF", Role.REVIEWER, False),
    ("admin", "Alice", "Admin", None, None, True),
)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


class Command(BaseCommand):
    help = "Charge les données de démonstration (Seine-et-Marne 2019-2023, Allier 2019)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Supprime puis recharge les données des Départements de démonstration.",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Donne un nouveau mot de passe aléatoire aux comptes de démonstration "
            "et les affiche.",
        )

    def handle(self, *args, reload: bool, reset_passwords: bool, **options):
        with transaction.atomic():
            actor = self._accounts(reset_passwords)
            for name in DEMO_FILES:
                data = json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))
                department = Department.objects.get(code=data["department"])
                if Convention.objects.filter(department=department).exists():
                    if not reload:
                        self.stdout.write(f"{department} : données déjà chargées.")
                        continue
                    self._delete(department)
                self._load(data, department, actor)
                self.stdout.write(self.style.SUCCESS(f"{department} : données chargées."))

    # --- accounts ---------------------------------------------------------------------------

    def _accounts(self, reset_passwords: bool):
        User = get_user_model()
        lines, admin = [], None
        for username, first, last, code, role, superuser in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.org",
                    "is_staff": superuser,
                    "is_superuser": superuser,
                },
            )
            if superuser:
                admin = user
            if code == "IDF":
                RegionalReviewer.objects.get_or_create(
                    user=user, region=Region.objects.get(name="Île-de-France")
                )
            elif code:
                Membership.objects.update_or_create(
                    user=user,
                    department=Department.objects.get(code=code),
                    defaults={"role": role},
                )
            if created or reset_passwords:
                password = secrets.token_urlsafe(9)
                user.set_password(password)
                user.save(update_fields=["password"])
                what = (
                    "relecteur de la préfecture de région Île-de-France"
                    if code == "IDF"
                    else f"{Role(role).label} — {code}"
                    if role
                    else "administrateur national"
                )
                lines.append(f"  {username:<14} {password:<14} {what}")
        if lines:
            self.stdout.write("Comptes de démonstration (identifiant, mot de passe, rôle) :")
            self.stdout.write("\n".join(lines))
        return admin

    # --- data ----------------------------------------------------------------------------

    def _delete(self, department: Department) -> None:
        MatrixEntry.objects.filter(convention_year__convention__department=department).delete()
        Indicator.objects.filter(department=department).delete()
        Convention.objects.filter(department=department).delete()
        Action.objects.filter(department=department).delete()
        Period.objects.filter(department=department).delete()

    def _load(self, data: dict, department: Department, actor) -> None:
        programme = Programme.objects.get(code=data["programme"])
        themes = {theme.code: theme for theme in Theme.objects.filter(programme=programme)}
        periods = {
            row["key"]: period_create(
                actor=actor,
                department=department,
                label=row["label"],
                kind=row["kind"],
                year=row["year"],
                start_date=_date(row["start_date"]),
                end_date=_date(row["end_date"]),
            )
            for row in data["periods"]
        }
        actions: dict[str, Action] = {}
        for row in data["conventions"]:
            convention = convention_create(
                actor=actor,
                department=department,
                programme=programme,
                title=row["title"],
                start_date=_date(row["start_date"]),
                end_date=_date(row["end_date"]),
                signature_date=_date(row.get("signature_date")),
                signature_place=row.get("signature_place", ""),
                state_party=row.get("state_party", ""),
                department_party=row.get("department_party", ""),
                deliberation_reference=row.get("deliberation_reference", ""),
                deliberation_date=_date(row.get("deliberation_date")),
                notes=row.get("notes", ""),
            )
            years = {}
            for year in row["years"]:
                years[year["year"]] = self._load_year(
                    year, convention, themes, actions, department, programme, actor
                )
            for amendment in row["amendments"]:
                amendment_create(
                    actor=actor,
                    convention=convention,
                    kind=AmendmentKind(amendment["kind"]),
                    number=amendment.get("number"),
                    year=amendment.get("year"),
                    signature_date=_date(amendment.get("signature_date")),
                    deliberation_reference=amendment.get("deliberation_reference", ""),
                    deliberation_date=_date(amendment.get("deliberation_date")),
                    state_amount=_money(amendment.get("state_amount")),
                    new_end_date=_date(amendment.get("new_end_date")),
                    summary=amendment.get("summary", ""),
                )
        self._load_indicators(data, department, programme, periods, actor)

    def _load_year(self, year, convention, themes, actions, department, programme, actor):
        layout = None
        if year.get("themes"):
            layout = [
                {
                    "theme": themes[entry["theme"]],
                    "printed_label": entry.get("printed_label", ""),
                    "chorus_note": entry.get("chorus_note", ""),
                    "placeholder_rows": entry.get("placeholder_rows", []),
                }
                for entry in year["themes"]
            ]
        convention_year = convention_year_open(
            actor=actor,
            convention=convention,
            year=year["year"],
            state_credit=_money(year.get("state_credit")),
            theme_layout=layout,
            state_credit_notified_on=_date(year.get("state_credit_notified_on")),
            state_credit_note=year.get("state_credit_note", ""),
            period_start=_date(year.get("period_start")),
            period_end=_date(year.get("period_end")),
            report_due_date=_date(year.get("report_due_date")),
            report_deliberation_reference=year.get("report_deliberation_reference", ""),
            report_deliberation_date=_date(year.get("report_deliberation_date")),
            planned_table_template=year.get("planned_table_template", "planned"),
        )
        for envelope in year["envelopes"]:
            state_envelope_create(
                actor=actor,
                convention_year=convention_year,
                themes=[themes[code] for code in envelope["themes"]],
                amount=Decimal(envelope["amount"]),
                note=envelope["note"],
            )
        for entry in year["actions"]:
            action = actions.get(entry["action"])
            if action is None:
                if not entry.get("name"):
                    raise CommandError(f"Fiche-action sans nom : {entry['action']}")
                action = actions[entry["action"]] = action_create(
                    actor=actor,
                    department=department,
                    programme=programme,
                    code=entry["action"],
                    name=entry["name"],
                )
            action_year = action_year_create(
                actor=actor,
                action=action,
                convention_year=convention_year,
                theme=themes[entry["theme"]],
                number=entry["number"],
                title=entry["title"],
                block=entry["block"],
                sequence_number=entry.get("sequence_number") or "",
                previous_reference=entry.get("previous_reference", ""),
                lead_service=entry.get("lead_service", ""),
                description=entry.get("description", ""),
                start_date_text=entry.get("start_date_text", ""),
                duration=entry.get("duration", ""),
                partners=entry.get("partners", ""),
                objectives=entry.get("objectives", ""),
                execution_review=entry.get("execution_review", ""),
                outlook=entry.get("outlook", ""),
            )
            for kind in (BudgetKind.PLANNED, BudgetKind.EXECUTED):
                budget = entry.get(kind.value)
                if budget is None:
                    continue
                budget_set(
                    actor=actor,
                    action_year=action_year,
                    kind=kind,
                    other_fundings=[
                        (funder, name, Decimal(amount))
                        for funder, name, amount in budget.get("other_fundings", [])
                    ],
                    comment=budget.get("comment", ""),
                    **{f: _money(budget.get(f)) for f in AMOUNT_FIELDS if f in budget},
                )
        return convention_year

    def _load_indicators(self, data, department, programme, periods, actor):
        # National indicators come from the reference catalogue; the Département's own are created.
        indicators = {
            indicator.code: indicator
            for indicator in Indicator.objects.filter(programme=programme, department=None)
        }
        for row in data["indicators"]:
            indicators[row["code"]] = indicator_create(
                actor=actor,
                programme=programme,
                department=department,
                **{**row, "parent": indicators[row["parent"]] if row["parent"] else None},
            )
        years = {
            cy.year: cy for cy in ConventionYear.objects.filter(convention__department=department)
        }
        for matrix in data["matrices"]:
            convention_year = years[matrix["year"]]
            action_years = {ay.number: ay for ay in convention_year.action_years.all()}
            for position, entry in enumerate(matrix["entries"], start=1):
                matrix_entry_create(
                    actor=actor,
                    convention_year=convention_year,
                    indicator=indicators[entry["indicator"]],
                    position=position,
                    printed_label=entry["printed_label"],
                    group_label=entry["group_label"],
                    measure_label=entry["measure_label"],
                    action_year=action_years.get(entry["action_number"]),
                )
        for value in data["values"]:
            indicator_value_set(
                actor=actor,
                indicator=indicators[value["indicator"]],
                period=periods[value["period"]],
                raw=value["raw"],
                realigned=value["realigned"],
                comment=value["comment"],
                # A cell fusing two numbers (fixtures/build): its text only, no number read.
                **({"number": None, "status": ValueStatus.TEXT} if value.get("unreadable") else {}),
            )
        for target in data["targets"]:
            indicator_target_set(
                actor=actor,
                indicator=indicators[target["indicator"]],
                convention_year=years[target["year"]],
                raw=target["raw"],
                comment=target["comment"],
            )
