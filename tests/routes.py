"""URL names the route-walking tests (authorization matrix, query counts at scale) treat apart."""

# URLs that only accept POST (a button, no page of their own): nothing to read with GET.
POST_ONLY = frozenset(
    {
        "actions:reinstate",
        "reports:comment_add",
        "reports:comment_resolve",
        "reports:justify",
        "actions:import_workbook_confirm",
        "actions:import_workbook_cancel",
    }
)
