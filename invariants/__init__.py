"""Pure checkers over histories: no trio, no Hypothesis, no engine state.

Each checker takes a :class:`faultlab.history.History` (plus model or settings) and returns a :class:`CheckResult`;
``assert_*`` helpers raise :class:`InvariantViolation` instead.
"""

from collections.abc import Callable

from faultlab.result import CheckResult, InvariantViolation, Verdict

__all__ = ["CheckResult", "InvariantViolation", "Verdict", "by_key"]


def by_key(check: Callable[..., CheckResult], doc: str) -> Callable[..., CheckResult]:
    """``check`` judging key by key (``keyed=True``: values are ``[key, value]``), as a checker that takes a history
    alone, for a module's ``CHECKERS`` table (``faultlab check-history --check NAME``)."""
    def judge(history) -> CheckResult:
        return check(history, keyed=True)

    judge.__doc__ = doc
    judge.__name__ = judge.__qualname__ = f"{check.__name__}_keyed"
    return judge
