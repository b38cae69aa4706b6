"""The main job: judge every protocol's good configurations and known-bad variants, and its quorum proofs.

Each good variant is explored under the profile's budget and must *hold* (no violation, and not vacuous); each
known-bad variant must be *refuted* on the invariant it is known to break, with a shrunk trace written for
``faultlab replay``; each quorum proof of a good variant must be *proved*. A row whose verdict differs from the
expectation is reported as unexpected, and the job fails.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from faultlab.explore import ExplorationCache, budget_for
from faultlab.proofs import proofs_for
from faultlab.protocol import Protocol, config_to_json
from faultlab.report.run import save_failure
from faultlab.runtime import RunSettings


@attrs.frozen
class Row:
    protocol: str
    configuration: str
    settings: dict[str, Any]
    check: str
    method: str          # "explore" | "z3"
    expected: str        # "held" | "refuted" | "proved"
    verdict: str         # held | refuted | vacuous | proved | unknown
    runs: int | None
    found_after: int | None
    seconds: float
    detail: str = ""
    trace: str | None = None
    coverage: dict[str, Any] | None = None
    links: str | None = None  # the link model an explored verdict was obtained under

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected

    def to_json(self) -> dict[str, Any]:
        d = attrs.asdict(self)
        d["as_expected"] = self.as_expected
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Row:
        """A row read back from ``verify.json`` (``faultlab report``)."""
        names = [f.name for f in attrs.fields(cls)]
        missing = [n for n in names if n not in d and attrs.fields_dict(cls)[n].default is attrs.NOTHING]
        if missing:
            raise ValueError(f"a row lacks {', '.join(missing)}")
        return cls(**{n: d[n] for n in names if n in d})


def explorations(protocol: Protocol, *, examples: int, seed: int, cache: ExplorationCache,
                 settings: RunSettings | None = None) -> list[tuple[str, Callable[[], Any]]]:
    """The explorations :func:`verify_protocol` will ask ``cache`` for, as ``(label, call)`` to run ahead in
    parallel, known-bad variants first: they shrink, and the longest jobs should start first. The label is
    :func:`row_label` of the variant's rows."""
    settings = settings or RunSettings()
    variants = sorted(protocol.variants, key=lambda v: not v.expect_violation)
    return [(row_label(protocol.name, v.name),
             functools.partial(cache.explore_each, protocol, protocol.make_config(v.settings),
                               examples=budget_for(v, examples), seed=seed, settings=settings.for_variant(v),
                               invariants=v.promised(protocol)))
            for v in variants]


def row_label(protocol: str, configuration: str) -> str:
    return f"{protocol} {configuration}"


def verify_protocol(protocol: Protocol, *, examples: int, seed: int, traces: Path,
                    settings: RunSettings | None = None, cache: ExplorationCache | None = None,
                    progress: Callable[[str], None] = lambda label: None) -> list[Row]:
    rows: list[Row] = []
    settings = settings or RunSettings()
    for variant in protocol.variants:
        config = protocol.make_config(variant.settings)
        label = f"{protocol.name} {variant.name}"
        progress(label)
        checks = variant.promised(protocol)
        decided = (cache or ExplorationCache()).explore_each(
            protocol, config, examples=budget_for(variant, examples), seed=seed,
            settings=settings.for_variant(variant), invariants=checks)
        traces_of: dict[int, str] = {}
        for name in checks:
            exp = decided[name]
            if exp.failure is not None and id(exp) not in traces_of:
                traces_of[id(exp)] = str(save_failure(exp, traces, variant.name))
            verdict = exp.verdict_for(name)
            if exp.failure is None:
                detail = exp.summary()
            elif exp.failure.error:
                detail = f"the protocol raised {exp.failure.error}"
            else:
                detail = next((c.explanation for c in exp.failure.violations if c.invariant == name), "")
            rows.append(Row(protocol.name, variant.name, config_to_json(config), name, "explore",
                            "refuted" if variant.expect_violation else "held", verdict, exp.coverage.runs,
                            exp.found_after, round(exp.seconds, 2), detail, traces_of.get(id(exp)),
                            exp.coverage.to_json(), exp.links))
        if protocol.quorum_system is not None and not variant.expect_violation:
            start = time.perf_counter()
            _, proofs = proofs_for(protocol, config)
            seconds = round(time.perf_counter() - start, 3)
            for r in proofs:
                rows.append(Row(protocol.name, variant.name, config_to_json(config), r.claim, "z3", "proved",
                                r.verdict, None, None, seconds, r.explanation))
    return rows
