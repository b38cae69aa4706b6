"""Elle's consistency models and anomaly names: which anomalies imply which, which models imply which, and which
anomalies each model proscribes, so a checker can turn ``--consistency-model snapshot-isolation`` into the set of
anomalies to search for, and the anomalies it found into the models the history rules out.

The tables restate the relations in Jepsen Elle's ``elle.consistency-model`` namespace (Adya's PL levels, Cerone et
al., Bailis et al.; see that namespace for the sources), written here as data. Models use Elle's canonical names
(``PL-3``) internally and its friendly names (``serializable``) at the edges. Two of our own: ``garbage-read`` (a
read of a value nobody wrote) implies G1a, like ``incompatible-order`` does in Elle. Pure data and pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable

from faultlab.errors import ConfigError

__all__ = ["MODEL_NAMES", "anomalies_implying", "anomalies_prohibited_by", "boundary", "canonical_model", "friendly_model"]

# anomaly -> anomalies it implies (a G0 cycle is also a G1c; an internal-consistency violation is ...)
IMPLIED_ANOMALIES: dict[str, tuple[str, ...]] = {
    "G0": ("G1c", "G0-process"), "G0-process": ("G1c-process", "G0-realtime"), "G0-realtime": ("G1c-realtime",),
    "G1a": ("G1",), "G1b": ("G1",), "G1c": ("G1", "G1c-process"),
    "G1c-process": ("G1c-realtime", "G1-process"), "G1c-realtime": ("G1-realtime",), "G1": ("G1-process",),
    "G1-process": ("G1-realtime",),
    "G-single-item": ("G-single", "G-single-item-process", "G-nonadjacent-item"),
    "G-single-item-process": ("G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"),
    "G-single-item-realtime": ("G-single-realtime", "G-nonadjacent-item-realtime"),
    "G-single": ("G-nonadjacent", "GSIb", "G-single-process"),
    "G-single-process": ("G-nonadjacent-process", "G-single-realtime"),
    "G-single-realtime": ("G-nonadjacent-realtime",),
    "G-nonadjacent-item": ("G-nonadjacent", "G2-item", "G-nonadjacent-item-process"),
    "G-nonadjacent-item-process": ("G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"),
    "G-nonadjacent-item-realtime": ("G2-item-realtime", "G-nonadjacent-realtime"),
    "G-nonadjacent": ("G2", "G-nonadjacent-process"),
    "G-nonadjacent-process": ("G2-process", "G-nonadjacent-realtime"),
    "G-nonadjacent-realtime": ("G2-realtime",),
    "G2": ("G2-process",), "G2-item": ("G2", "G2-item-process"), "G2-item-process": ("G2-process", "G2-item-realtime"),
    "G2-item-realtime": ("G2-realtime",), "G2-process": ("G2-realtime",),
    "GSIa": ("GSI",), "GSIb": ("GSI",),
    "incompatible-order": ("G1a",), "future-read": ("G1c",), "dirty-update": ("G1a",),
    "lost-update": ("write-skew", "G2-item"), "write-skew": ("G2",),
    "garbage-read": ("G1a",),  # ours, not Elle's
}

# friendly name -> canonical name
CANONICAL: dict[str, str] = {
    "consistent-view": "PL-2+", "conflict-serializable": "PL-3", "cursor-stability": "PL-CS",
    "forward-consistent-view": "PL-FCV", "monotonic-snapshot-read": "PL-MSR", "monotonic-view": "PL-2L",
    "read-committed": "PL-2", "read-uncommitted": "PL-1", "repeatable-read": "PL-2.99", "serializable": "PL-3",
    "snapshot-isolation": "PL-SI", "strict-serializable": "PL-SS", "strong-serializable": "PL-SS",
    "update-serializable": "PL-3U", "strong-session-read-uncommitted": "strong-session-PL-1",
    "strong-session-read-committed": "strong-session-PL-2", "strong-read-uncommitted": "strong-PL-1",
    "strong-read-committed": "strong-PL-2",
}
FRIENDLY: dict[str, str] = {**{v: k for k, v in sorted(CANONICAL.items())}, "PL-3": "serializable",
                            "PL-SS": "strict-serializable"}

# model -> the models it implies (a history that is serializable is also snapshot-isolated, ...), friendly names
_MODELS_FRIENDLY: dict[str, tuple[str, ...]] = {
    "causal-cerone": ("read-atomic",), "consistent-view": ("cursor-stability", "monotonic-view"),
    "conflict-serializable": ("view-serializable",), "cursor-stability": ("read-committed", "PL-2"),
    "forward-consistent-view": ("consistent-view",), "PL-2": ("PL-1",),
    "PL-3": ("repeatable-read", "update-serializable"), "update-serializable": ("forward-consistent-view",),
    "monotonic-atomic-view": ("read-committed",), "monotonic-view": ("PL-2",), "monotonic-snapshot-read": ("PL-2",),
    "parallel-snapshot-isolation": ("causal-cerone", "ROLA"), "prefix": ("causal-cerone",),
    "read-atomic": ("monotonic-atomic-view",), "read-committed": ("read-uncommitted",),
    "repeatable-read": ("cursor-stability", "monotonic-atomic-view"), "ROLA": ("read-atomic",),
    "serializable": ("repeatable-read", "snapshot-isolation", "view-serializable"),
    "session-serializable": ("1SR",),
    "snapshot-isolation": ("forward-consistent-view", "monotonic-atomic-view", "monotonic-snapshot-read",
                           "parallel-snapshot-isolation", "prefix"),
    "strict-serializable": ("PL-3", "serializable", "linearizable", "snapshot-isolation",
                            "strong-snapshot-isolation", "strong-session-serializable"),
    "strong-session-PL-1": ("PL-1",), "strong-session-PL-2": ("PL-2", "strong-session-PL-1"),
    "strong-PL-1": ("strong-session-PL-1",), "strong-PL-2": ("strong-session-PL-2", "strong-PL-1"),
    "strong-session-serializable": ("serializable", "strong-session-snapshot-isolation"),
    "strong-session-snapshot-isolation": ("snapshot-isolation", "strong-session-PL-2"),
    "strong-serializable": ("session-serializable",),
    "strong-snapshot-isolation": ("strong-session-snapshot-isolation", "strong-PL-2"),
    "linearizable": ("sequential",), "sequential": ("causal",), "causal": ("writes-follow-reads", "PRAM"),
    "PRAM": ("monotonic-reads", "monotonic-writes", "read-your-writes"),
}

# model -> anomalies it proscribes directly (over the models it implies), friendly or canonical names
_DIRECT_FRIENDLY: dict[str, tuple[str, ...]] = {
    "causal-cerone": ("internal", "G1a"), "cursor-stability": ("G1", "G-cursor", "lost-update"),
    "monotonic-view": ("G1", "G-monotonic"), "monotonic-snapshot-read": ("G1", "G-MSR"),
    "consistent-view": ("G1", "G-single"), "forward-consistent-view": ("G1", "G-SIb"),
    "parallel-snapshot-isolation": ("internal", "G1a"),
    "PL-3": ("G1", "G2", "predicate-read-miss"), "PL-2": ("G1",),
    "PL-1": ("G0", "duplicate-elements", "cyclic-versions"),
    "prefix": ("internal", "G1a"), "serializable": ("internal",),
    "snapshot-isolation": ("internal", "G1", "G-SI", "G-nonadjacent"),
    "read-atomic": ("internal", "G1a", "future-read"),
    "repeatable-read": ("G1", "G2-item", "lost-update"), "ROLA": ("lost-update",),
    "strict-serializable": ("G1", "G1c-realtime", "G2-realtime"),
    "strong-session-PL-1": ("G0-process",), "strong-session-PL-2": ("G1c-process",),
    "strong-PL-1": ("G0-realtime",), "strong-PL-2": ("G1c-realtime",),
    "strong-session-snapshot-isolation": ("internal", "G1-process", "G-nonadjacent-process"),
    "strong-snapshot-isolation": ("internal", "G1-realtime", "G-nonadjacent-realtime"),
    "strong-session-serializable": ("G1-process", "G2-process"),
    "update-serializable": ("G1", "G-update"),
}


def canonical_model(name: str) -> str:
    return CANONICAL.get(name, name)


def friendly_model(name: str) -> str:
    return FRIENDLY.get(name, name)


def _merge(table: dict[str, tuple[str, ...]], values: bool) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k, vs in table.items():
        out.setdefault(canonical_model(k), set()).update(canonical_model(v) if values else v for v in vs)
    return out


MODELS = _merge(_MODELS_FRIENDLY, values=True)
DIRECT = _merge(_DIRECT_FRIENDLY, values=False)
ALL_MODELS = sorted({*MODELS, *(m for vs in MODELS.values() for m in vs), *DIRECT})
MODEL_NAMES = sorted({friendly_model(m) for m in ALL_MODELS} | set(CANONICAL))


def _closure(start: Iterable[str], step: dict[str, set[str]] | dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = sorted(set(start))
    while todo:
        x = todo.pop()
        if x not in seen:
            seen.add(x)
            todo.extend(sorted(step.get(x, ())))
    return seen


def _reverse(table) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k, vs in table.items():
        for v in vs:
            out.setdefault(v, set()).add(k)
    return out


def validate_models(names: Iterable[str]) -> list[str]:
    names = list(names)
    for n in names:
        if canonical_model(n) not in ALL_MODELS:
            raise ConfigError(f"unknown consistency model {n!r}; choose from {', '.join(MODEL_NAMES)}")
    return names


def anomalies_implying(anomalies: Iterable[str]) -> set[str]:
    """The anomalies given and every anomaly that implies one of them (asking for G2 also finds G-single)."""
    return _closure(anomalies, _reverse(IMPLIED_ANOMALIES))


def anomalies_prohibited_by(models: Iterable[str]) -> set[str]:
    """Every anomaly that cannot occur if all the models hold: their direct proscriptions, those of every model
    they imply, and every anomaly that implies one of those (G0 implies G1c implies G1)."""
    implied = _closure((canonical_model(m) for m in validate_models(models)), MODELS)
    direct = {a for m in implied for a in DIRECT.get(m, ())}
    return _closure(direct, _reverse(IMPLIED_ANOMALIES))


def boundary(anomalies: Iterable[str]) -> dict[str, list[str]]:
    """``{"not": weakest models ruled out, "also_not": the stronger ones}`` (friendly names), as Elle reports."""
    present = _closure(anomalies, IMPLIED_ANOMALIES)
    by_anomaly = _reverse(DIRECT)
    direct = {m for a in present for m in by_anomaly.get(a, ())}
    impossible = _closure(direct, _reverse(MODELS))
    weakest = {m for m in impossible if not (_closure(MODELS.get(m, ()), MODELS) & impossible)}
    return {"not": sorted({friendly_model(m) for m in weakest}),
            "also_not": sorted({friendly_model(m) for m in impossible - weakest} - {friendly_model(m) for m in weakest})}
