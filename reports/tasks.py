"""Background generation of the long documents (django-tasks, database backend).

The web request records a ``GeneratedDocument`` and enqueues :func:`generate_document`; the
worker (``manage.py db_worker``, started by ``make run``) renders it; the page shows the progress
and serves the file once ready. A file is kept per data version: asking again for unchanged
data serves it at once.
"""

from django.utils import timezone
from django_tasks import task

from reports.models import GeneratedDocument, GenerationStatus


@task()
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
