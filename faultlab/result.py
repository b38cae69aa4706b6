"""The result every checker returns: ``ok``, ``violated`` or ``unknown``, with a witness a person can follow.

A leaf of the engine (it imports nothing of faultlab's): checkers in ``invariants/``, protocols, the runtime and the
report writers all use it.

``unknown`` means *undecided*: the checker could not decide, because its budget ran out (search steps, memory) or the
history cannot decide it (an acknowledged message processed only by operations whose outcome is unknown). It is
never silently ``ok``. A history that gives a checker nothing to judge (no read began after an acknowledged write, no
final read) is different: nothing contradicts the property, but nothing showed it either. That result is ``ok`` with
``exercised=False``; an exploration in which an invariant was never exercised is *vacuous*, not a pass.
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

    ``checker`` names the check that ran (``read-after-write``); ``invariant`` names the protocol invariant it
    judged, stamped by the engine (a protocol may call a checker under any name: verdicts are matched by
    ``invariant``, never by ``checker``). ``explanation`` is prose in the style "Let ... Then ...: a
    contradiction!" for a violation, or what was established otherwise; ``witness`` holds the machine-readable
    evidence (operation indices, values, states) and must be JSON-serialisable so it can go into a trace.
    ``exercised`` is False when the history held nothing for the check to judge.
    """

    checker: str
    verdict: Verdict
    explanation: str = ""
    witness: dict[str, Any] = attrs.field(factory=dict)
    exercised: bool = True
    invariant: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    @property
    def violated(self) -> bool:
        return self.verdict is Verdict.VIOLATED

    @property
    def unknown(self) -> bool:
        return self.verdict is Verdict.UNKNOWN

    @property
    def name(self) -> str:
        """The invariant this result judged, or the checker's own name outside a protocol run."""
        return self.invariant or self.checker

    @classmethod
    def holds(cls, checker: str, explanation: str = "", **witness: Any) -> CheckResult:
        return cls(checker, Verdict.OK, explanation, witness)

    @classmethod
    def violation(cls, checker: str, explanation: str, **witness: Any) -> CheckResult:
        return cls(checker, Verdict.VIOLATED, explanation, witness)

    @classmethod
    def undecided(cls, checker: str, explanation: str, **witness: Any) -> CheckResult:
        """The checker ran out of budget: ``unknown``."""
        return cls(checker, Verdict.UNKNOWN, explanation, witness)

    @classmethod
    def unexercised(cls, checker: str, explanation: str, **witness: Any) -> CheckResult:
        """The history gave the checker nothing to judge: ``ok``, but not exercised."""
        return cls(checker, Verdict.OK, explanation, witness, exercised=False)

    def judged_as(self, invariant: str) -> CheckResult:
        """This result stamped with the invariant that produced it (done by the engine)."""
        return attrs.evolve(self, invariant=invariant)

    def to_json(self) -> dict[str, Any]:
        d = {"checker": self.checker, "verdict": self.verdict.value, "explanation": self.explanation,
             "witness": self.witness}
        if not self.exercised:
            d["exercised"] = False
        if self.invariant is not None:
            d = {"invariant": self.invariant, **d}
        return d

    def __str__(self) -> str:
        head = f"{self.name}: {self.verdict.value}" + ("" if self.exercised else " (nothing to judge)")
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
