"""Hypothesis profiles for the fuzz suite (issue #11), applied per test, never globally.

    ci     (CI=true)        derandomized: the same examples on every run, ~60 s for the whole suite
    dev    (default)        random examples, the same count
    long   (HYPOTHESIS_PROFILE=long)  many more examples, for a run of about ten minutes before a release
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_BASE = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.function_scoped_fixture], deadline=5000)
settings.register_profile("ci", _BASE, derandomize=True, max_examples=120, database=None)
settings.register_profile("dev", _BASE, max_examples=120)
settings.register_profile("long", _BASE, max_examples=10_000)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
FUZZ = settings.get_profile(PROFILE)
