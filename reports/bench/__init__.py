"""Benchmark helpers (``make bench``): the load test's locustfile and reference writers. Nothing
here is used by the application."""
