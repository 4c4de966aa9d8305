"""Writes seen through the audit trail: every service records a history row per change."""

from django.apps import apps
from simple_history.models import HistoricalChanges

HISTORY_MODELS = [model for model in apps.get_models() if issubclass(model, HistoricalChanges)]


def history_counts() -> dict[str, int]:
    """Rows of every history table: comparing two readings tells whether anything was written."""
    return {model.__name__: model.objects.count() for model in HISTORY_MODELS}
