"""What every fuzz test here shares: the same examples on every run, nothing kept between runs."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

DETERMINISTIC = settings(
    deadline=None,  # timings are for benchmarks, never assertions
    derandomize=True,  # the same requests on every run: CI stays deterministic
    database=None,
    print_blob=False,
    # One app and database per test, on purpose: every example acts on the same state.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
