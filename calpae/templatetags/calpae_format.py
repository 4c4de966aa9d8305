from decimal import Decimal

from django import template

from reports.formatting import format_euros

register = template.Library()


@register.filter
def euros(value: Decimal | None) -> str:
    """``1234.5`` → ``1 234,50 €``; an empty cell (or a missing budget) stays empty."""
    if value is None or value == "":
        return ""
    return format_euros(value)


@register.filter
def get_item(mapping, key):
    """``{{ totals|get_item:block }}``: a dictionary entry in a template."""
    return mapping.get(key) if mapping else None
