"""The backoff strategies of section 13 ("The Jitter Formula"), plus decorrelated jitter for comparison.

Pure functions of the attempt number and a fraction ``u`` in [0, 1) that the caller draws from its coins, so the
formulas can be read against the document line by line and tested without a run:

* none: retry at once (sleep 0), the baseline of the AWS simulator;
* exponential, "Without jitter:   sleep = min(max_backoff, base × 2^attempt)";
* full, "With full jitter:  sleep = random(0, min(max_backoff, base × 2^attempt))";
* equal, "With equal jitter: sleep = min(max_backoff, base × 2^attempt) / 2 + random(0, same / 2)";
* decorrelated (the AWS architecture blog's): ``sleep = min(cap, random(base, previous_sleep × 3))``, the previous
  sleep starting at ``base``.

``attempt`` counts the failures so far: the first retry sleeps with ``attempt = 1`` (``2 × base`` without jitter),
as in the blog's simulator.
"""

from __future__ import annotations

STRATEGIES = ("none", "exponential", "full", "equal", "decorrelated")
JITTERED = ("full", "equal", "decorrelated")  # the strategies that draw a coin


def ceiling(attempt: int, base: float, cap: float) -> float:
    """``min(max_backoff, base × 2^attempt)``, without overflowing for a large attempt number."""
    return cap if attempt >= 62 else min(cap, base * 2 ** attempt)


def sleep_for(strategy: str, attempt: int, base: float, cap: float, previous: float, u: float) -> float:
    """The sleep before retry number ``attempt`` under ``strategy``; ``u`` in [0, 1) is the coin (unused without
    jitter), ``previous`` the last sleep (decorrelated jitter only)."""
    if strategy == "none":
        return 0.0
    c = ceiling(attempt, base, cap)
    if strategy == "exponential":
        return c
    if strategy == "full":
        return u * c
    if strategy == "equal":
        return c / 2 + u * (c / 2)
    if strategy == "decorrelated":
        return min(cap, base + u * (previous * 3 - base))
    raise ValueError(f"unknown backoff strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
