"""The result every checker returns: ``ok``, ``violated`` or ``unknown``, with a witness a person can follow.

``unknown`` is never silently ``ok``: a budget that ran out, or a history with nothing to judge, says so.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs


class Verdict(enum.StrEnum):
    OK = "ok"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


@attrs.frozen
class CheckResult:
    """What a checker found.

    ``checker`` names the invariant (``read-after-write``); ``explanation`` is prose in the style "Let ... Then ...:
    a contradiction!" for a violation, or what was established for ``unknown``; ``witness`` holds the machine-readable
    evidence (operation indices, values, states) and must be JSON-serialisable so it can go into a trace.
    """

    checker: str
    verdict: Verdict
    explanation: str = ""
    witness: dict[str, Any] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    @property
    def violated(self) -> bool:
        return self.verdict is Verdict.VIOLATED

    @classmethod
    def holds(cls, checker: str, explanation: str = "", **witness: Any) -> CheckResult:
        return cls(checker, Verdict.OK, explanation, witness)

    @classmethod
    def violation(cls, checker: str, explanation: str, **witness: Any) -> CheckResult:
        return cls(checker, Verdict.VIOLATED, explanation, witness)

    @classmethod
    def undecided(cls, checker: str, explanation: str, **witness: Any) -> CheckResult:
        return cls(checker, Verdict.UNKNOWN, explanation, witness)

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "verdict": self.verdict.value, "explanation": self.explanation,
                "witness": self.witness}

    def __str__(self) -> str:
        head = f"{self.checker}: {self.verdict.value}"
        return f"{head}\n  {self.explanation}" if self.explanation else head


class InvariantViolation(AssertionError):
    """Raised by ``assert_*`` helpers; carries the :class:`CheckResult`."""

    def __init__(self, result: CheckResult):
        super().__init__(str(result))
        self.result = result


def assert_holds(result: CheckResult) -> CheckResult:
    """Raise :class:`InvariantViolation` unless the result is ``ok``."""
    if not result.ok:
        raise InvariantViolation(result)
    return result
