"""Benchmark helpers (``make bench``): the load test's locustfile and reference writers. Nothing
here is used by the application: the benchmark commands share the machine's reference."""

import time


def machine_reference_ms() -> float:
    """A fixed pure-Python workload (ten million additions, best of three), timed now: the speed
    of a shared machine varies from hour to hour, and the figures are read against this one
    (README, « Performances »)."""
    durations = []
    for _ in range(3):
        start = time.perf_counter()
        sum(range(10_000_000))
        durations.append(time.perf_counter() - start)
    return min(durations) * 1000
