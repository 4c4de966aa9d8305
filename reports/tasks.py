"""Background generation of the long documents (django-tasks, database backend).

The web request records a ``GeneratedDocument`` and enqueues :func:`generate_document`; the
worker (``manage.py db_worker``, started by ``make run``) renders it; the page shows the progress
and serves the file once ready. A file is kept per data version: asking again for unchanged
data serves it at once.
"""

import hashlib

from django.utils import timezone
from django_tasks import task

from reports.models import GeneratedDocument, GenerationStatus, VersionFile
from reports.pdf import collected_after

# The memory of a render is freed once the document is stored and ready, not before (0.4 s for
# the Rapport d'exécution): each job runs in ``collected_after``.


@task()
@collected_after()
def generate_document(generated_id: int) -> None:
    from reports.documents import DOCUMENTS, render

    generated = GeneratedDocument.objects.select_related(
        "convention_year__convention__department__region"
    ).get(pk=generated_id)
    GeneratedDocument.objects.filter(pk=generated_id).update(status=GenerationStatus.RUNNING)
    try:
        content = render(DOCUMENTS[generated.slug], generated.convention_year, generated.fmt)
    except Exception as error:  # recorded for the page, then raised for the worker's log
        GeneratedDocument.objects.filter(pk=generated_id).update(
            status=GenerationStatus.FAILED, error=str(error), finished_at=timezone.now()
        )
        raise
    GeneratedDocument.objects.filter(pk=generated_id).update(
        status=GenerationStatus.READY, content=content, error="", finished_at=timezone.now()
    )
    # Files of earlier data versions will never be served again: keep only this one.
    GeneratedDocument.objects.filter(
        convention_year_id=generated.convention_year_id,
        slug=generated.slug,
        fmt=generated.fmt,
        status__in=(GenerationStatus.READY, GenerationStatus.FAILED),
    ).exclude(pk=generated_id).delete()


@task()
@collected_after()
def freeze_version_file(file_id: int) -> None:
    """A PDF of a transmitted version. The year is locked since its transmission, so the PDF
    prints the transmitted data; the figures are compared again to be sure (an unlock and a
    change before the worker ran would otherwise go unnoticed)."""
    from reports.documents import DOCUMENTS, read_documents, render_computed
    from reports.snapshot import figures_sha256, frozen_figures

    file = VersionFile.objects.select_related(
        "version__convention_year__convention__department__region"
    ).get(pk=file_id)
    version = file.version
    convention_year = version.convention_year
    computed = read_documents(convention_year)
    if figures_sha256(frozen_figures(computed)) != version.figures_sha256:
        VersionFile.objects.filter(pk=file_id).update(
            status=GenerationStatus.FAILED,
            error="Les données de l'exercice ont changé depuis la transmission : ce document "
            "n'est pas produit, pour ne pas différer de la version transmise.",
        )
        return
    content = render_computed(
        DOCUMENTS[file.slug],
        computed[file.slug],
        file.fmt,
        generated_on=timezone.localtime(version.created_at).date(),
        convention_year=convention_year,
    )
    VersionFile.objects.filter(pk=file_id).update(
        status=GenerationStatus.READY,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        error="",
    )
