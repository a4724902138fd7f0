"""Retry and Catch decisions (pure): which retrier applies, how long to back off, which catcher.

AWS semantics: retriers are scanned in order and the *first* whose ``ErrorEquals`` matches is
the one used; if it has no attempts left the error goes to the catchers (later retriers are not
tried). Each retrier counts its own attempts within one entry of the state. The n-th retry
(n from 0) waits ``IntervalSeconds * BackoffRate**n`` seconds, capped by ``MaxDelaySeconds``;
with ``JitterStrategy: FULL`` a uniformly random fraction of that.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import Catcher, Retrier


@dataclass(frozen=True, slots=True)
class RetryDecision:
    index: int  # which retrier
    delay: float  # seconds to wait before the next attempt


def backoff_delay(retrier: Retrier, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based) of ``retrier``."""
    delay = float(retrier.interval_seconds) * (retrier.backoff_rate**attempt)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy == "FULL":
        delay = (rng or random.Random(0)).uniform(0.0, delay)
    return delay


def decide_retry(
    retriers: Sequence[Retrier],
    counts: Sequence[int],
    error: str,
    rng: random.Random | None = None,
) -> RetryDecision | None:
    """The retry to perform for ``error`` given attempts used so far, or ``None``."""
    for i, retrier in enumerate(retriers):
        if asl_errors.matches(retrier.error_equals, error):
            used = counts[i] if i < len(counts) else 0
            if used >= retrier.max_attempts:
                return None
            return RetryDecision(i, backoff_delay(retrier, used, rng))
    return None


def find_catcher(catchers: Sequence[Catcher], error: str) -> Catcher | None:
    for catcher in catchers:
        if asl_errors.matches(catcher.error_equals, error):
            return catcher
    return None
