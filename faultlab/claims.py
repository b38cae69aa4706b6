"""Claims: sentences from the design document, each judged by faultlab with a verdict the code computed.

A protocol module declares its claims next to its code (``Protocol.claims``). Each quotes the document exactly, with
its section, and says how it is checked:

* ``invariant``: explore a named variant (its configuration and fault set) against named invariants. Verdict
  ``held`` (with the number of runs and which faults occurred) or ``refuted`` (with the shrunk trace and the replay
  command). A claim the document gets wrong is a result: it is reported refuted, never weakened until it passes.
* ``z3``: proofs about the variant's configuration (``prove(config) -> [ProofResult]``). Verdict ``proved`` or
  ``refuted`` with the counterexample.
* ``measure``: a computation or a set of simulation runs that produces a figure with its unit
  (``measure(seed) -> Measurement``). Verdict ``measured`` with the figure and a table.

``faultlab claims`` judges them and prints the table; ``faultlab verify`` includes them in its reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs

Method = Literal["invariant", "z3", "measure"]


@attrs.frozen
class Plot:
    """How the reports draw a measurement's table: column ``y`` against column ``x``, one line (``kind="line"``) or
    one bar per group (``kind="bar"``) for each value of column ``series``; or several columns ``y=("a", "b")``,
    one line each. Rows that share an x (and series) are drawn as their mean: seeded runs of one cell. Drawn from
    the table itself, so the picture and the numbers cannot disagree (faultlab.report.plots)."""

    x: str
    y: str | tuple[str, ...] = attrs.field(converter=lambda v: v if isinstance(v, str) else tuple(v))
    series: str | None = None
    kind: Literal["line", "bar"] = "line"
    title: str = ""
    log_y: bool = False

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("line", "bar"):
            raise ValueError(f"Plot kind must be 'line' or 'bar', not {self.kind!r}")
        if not isinstance(self.y, str) and self.series is not None:
            raise ValueError("a Plot with several y columns draws one line per column: it takes no series")

    @property
    def columns(self) -> set[str]:
        ys = {self.y} if isinstance(self.y, str) else set(self.y)
        return {self.x} | ys | ({self.series} if self.series else set())

    def to_json(self) -> dict[str, Any]:
        d = attrs.asdict(self)
        d["y"] = self.y if isinstance(self.y, str) else list(self.y)  # JSON has lists, not tuples
        return d


@attrs.frozen
class Measurement:
    """A measured figure: ``figure`` in ``unit``, a one-line ``summary``, the ``table`` of raw rows behind it, and
    optionally how to ``plot`` that table."""

    figure: float
    unit: str
    summary: str
    table: list[dict[str, Any]] = attrs.field(factory=list)
    plot: Plot | None = None

    def __attrs_post_init__(self) -> None:
        if self.plot is not None and self.table:  # an empty table (nothing measured) draws nothing
            missing = sorted(self.plot.columns - set(self.table[0]))
            if missing:
                raise ValueError(f"Measurement plot names columns its table does not have: {missing}")


@attrs.frozen
class Claim:
    section: str
    text: str                      # quoted exactly from the design document
    method: Method
    variant: str | None = None     # the configuration the claim is about (a Protocol variant name)
    invariants: Sequence[str] = ()
    prove: Callable[[Any], list[Any]] | None = None
    measure: Callable[[int], Measurement] | None = None
    note: str = ""                 # how the sentence was turned into something checkable
    # The verdict this suite has established and expects to keep computing (held, refuted, proved, measured).
    # Not an input to the verdict: a run that computes anything else is flagged, so a search that stops finding
    # a known counterexample, or a fix that makes a refuted claim hold, is seen.
    expect: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.expect not in (None, "held", "refuted", "proved", "measured"):
            raise ValueError(f"claim {self.text!r}: expect must be held, refuted, proved or measured")
        if self.method == "invariant" and (not self.variant or not self.invariants):
            raise ValueError(f"claim {self.text!r}: an invariant claim needs a variant and invariants")
        if self.method == "z3" and self.prove is None:
            raise ValueError(f"claim {self.text!r}: a z3 claim needs prove=")
        if self.method == "measure" and self.measure is None:
            raise ValueError(f"claim {self.text!r}: a measured claim needs measure=")


@attrs.frozen
class ClaimResult:
    protocol: str
    claim: Claim
    verdict: str                   # proved | held | refuted | measured | vacuous | unknown
    evidence: dict[str, Any]
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.claim.expect is None or self.claim.expect == self.verdict

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "section": self.claim.section, "claim": self.claim.text,
                "method": self.claim.method, "variant": self.claim.variant,
                "invariants": list(self.claim.invariants), "verdict": self.verdict, "expected": self.claim.expect,
                "evidence": self.evidence, "note": self.claim.note, "seconds": round(self.seconds, 2)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ClaimResult:
        """A result read back from ``claims.json`` (``faultlab report``): enough to write every page again, not to
        judge the claim again (its proof and measurement functions are not in the file, and are not imported)."""
        method = d["method"]
        if method not in ("invariant", "z3", "measure"):
            raise ValueError(f"method {method!r} is not invariant, z3 or measure")
        claim = Claim(str(d["section"]), str(d["claim"]), method, variant=d.get("variant"),
                      invariants=tuple(d.get("invariants") or ("?",)), note=str(d.get("note") or ""),
                      expect=d.get("expected"), prove=_from_file if method == "z3" else None,
                      measure=_from_file if method == "measure" else None)
        evidence = d["evidence"]
        if not isinstance(evidence, dict):
            raise ValueError("evidence is not an object")
        return cls(str(d["protocol"]), claim, str(d["verdict"]), evidence, float(d.get("seconds") or 0.0))


def _from_file(*_: Any) -> Any:
    raise RuntimeError("a claim read from a report file cannot be judged again: run `faultlab claims`")


def exploration_for(protocol: Any, claim: Claim, *, examples: int, seed: int, cache: Any) -> Any:
    """The exploration an invariant claim is judged on, from ``cache`` (explored there if it is not yet)."""
    from faultlab.explore import budget_for
    from faultlab.runtime import RunSettings

    variant = protocol.variant(claim.variant) if claim.variant else None
    config = protocol.make_config(variant.settings if variant else {})
    return cache.explore(protocol, config, examples=budget_for(variant, examples), seed=seed,
                         settings=RunSettings().for_variant(variant), invariants=tuple(claim.invariants))


def judge(protocol: Any, claim: Claim, *, examples: int, seed: int, traces: Any, cache: Any = None) -> ClaimResult:
    """Compute a claim's verdict; nothing here is hard-coded: every verdict comes from a run, a proof or a figure."""
    import time

    from faultlab.explore import ExplorationCache
    from faultlab.faults import INJECTABLE

    start = time.perf_counter()
    if claim.method == "measure":
        from faultlab.explore import ExplorationCache

        m, seconds = (cache or ExplorationCache()).measure(protocol, claim, seed)
        evidence = {"figure": m.figure, "unit": m.unit, "summary": m.summary, "table": m.table}
        if m.plot is not None:
            evidence["plot"] = m.plot.to_json()
        return ClaimResult(protocol.name, claim, "measured", evidence, seconds)
    variant = protocol.variant(claim.variant) if claim.variant else None
    config = protocol.make_config(variant.settings if variant else {})
    if claim.method == "z3":
        proofs = claim.prove(config)
        verdicts = {p.verdict for p in proofs}
        verdict = "refuted" if "refuted" in verdicts else "unknown" if "unknown" in verdicts else "proved"
        evidence = {"proofs": [p.to_json() for p in proofs]}
        return ClaimResult(protocol.name, claim, verdict, evidence, time.perf_counter() - start)
    exp = exploration_for(protocol, claim, examples=examples, seed=seed, cache=cache or ExplorationCache())
    faults = {k: exp.coverage.runs_with_event[k] for k in INJECTABLE if exp.coverage.runs_with_event.get(k)}
    evidence: dict[str, Any] = {"runs": exp.coverage.runs, "distinct_schedules": len(exp.coverage.schedules),
                                "faults_in_runs": faults, "links": exp.links,
                                "invariants": list(claim.invariants)}
    if exp.failure is not None:
        from faultlab.report.run import replay_command, save_failure

        path = save_failure(exp, traces, claim.variant)
        evidence.update(found_after=exp.found_after, trace=str(path), replay=replay_command(protocol, path),
                        events=len(exp.failure.events), operations=len(exp.failure.history.operations()),
                        violations=[c.to_json() for c in exp.failure.violations if c.invariant in claim.invariants],
                        error=exp.failure.error)
        verdict = "refuted"
    else:
        verdict = exp.verdict  # held, or vacuous when the runs never showed what they should
        evidence["missing_witnesses"] = exp.missing_witnesses()
    return ClaimResult(protocol.name, claim, verdict, evidence, exp.seconds)  # the exploration's time, cached or not


def judged_on(r: ClaimResult) -> str:
    """What the sentence was judged on: the configuration and how it was made checkable. A sentence judged twice
    (held for the design, refuted for a known-bad variant or a stronger reading) reads right only with this."""
    where = f"`{r.claim.variant}`" if r.claim.variant else "the default configuration"
    return f"{where}: {r.claim.note}" if r.claim.note else where
