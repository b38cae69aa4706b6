"""Pure checkers over histories: no trio, no Hypothesis, no engine state.

Each checker takes a :class:`faultlab.history.History` (plus model or settings) and returns a :class:`CheckResult`;
``assert_*`` helpers raise :class:`InvariantViolation` instead.
"""

from faultlab.result import CheckResult, InvariantViolation, Verdict

__all__ = ["CheckResult", "InvariantViolation", "Verdict"]
