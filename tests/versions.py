"""A transmitted version of a year's report, written directly (transmitting through the service
would lock the year for the other rows a test writes): what the comparison and the version file
pages read."""

import datetime

from conventions.models import ConventionYear
from reports.models import ReportVersion, ReviewEvent, VersionFile


def frozen_version(year: ConventionYear, actor, *, number: int = 1) -> ReportVersion:
    """Version ``number`` of the year's report, with its financial table as a ready file."""
    event = ReviewEvent.objects.create(
        convention_year=year,
        step="submit",
        from_state="draft",
        to_state="submitted",
        actor=actor,
        deliberation_number=f"CD-{number}",
        deliberation_date=datetime.date(2024, 6, number),
    )
    version = ReportVersion.objects.create(
        convention_year=year, number=number, event=event, figures={}, figures_sha256="0" * 64
    )
    VersionFile.objects.create(
        version=version,
        slug="financial-table",
        fmt="xlsx",
        status="ready",
        content=b"PK",
        sha256="1" * 64,
        size=2,
    )
    return version
