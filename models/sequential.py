"""Sequential specifications: what a single copy of a service would do, one operation at a time.

A :class:`Model` is porcupine's idea in Python: an initial state and a pure ``step(state, f, input, output) ->
(legal, new_state)``. A linearizability checker asks the model whether an operation, applied to a state with the
output the client saw, is legal, and what state follows. Models know nothing about time, processes or histories;
that keeps them a few lines each and lets :mod:`invariants.linearizability` memoize on states.

Contracts a model must keep:

* ``step`` is pure and deterministic, and states are hashable (the checker memoizes on them): use tuples,
  frozensets and :func:`freeze` instead of lists, sets and dicts.
* ``output`` is what the completion returned, or :data:`UNKNOWN` for an operation whose outcome nobody saw (``info``
  or never completed). Such an operation is optional: the checker may also leave it out. So a model may call a
  step with an unknown outcome that has no effect *illegal*: leaving the operation out is the same thing, and the
  search is smaller.
* ``output`` is :data:`FAILED` only for functions listed in ``failures_checked``: a failure the model gives meaning
  (etcd's failed compare-and-set says the value was not the expected one). Failures of other functions did not
  happen and never reach the model.

A new model is a few lines::

    counter = Model(
        name="counter", init=0, functions=("add", "read"),
        step=lambda state, f, input, output: (
            (True, state + input) if f == "add"
            else (output is UNKNOWN or output == state, state)),
    )

The built-in models live in :mod:`models.registers` and :mod:`models.structures`; :data:`models.MODELS` names them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import attrs

from faultlab.history import Operation


class _Outcome:
    """A marker output, distinct from every JSON value (including None, which a read may legitimately return)."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self):  # unpickle to the same singleton
        return self._name


UNKNOWN = _Outcome("UNKNOWN")
"""The output of an operation whose outcome was not observed (``info``): it may or may not have happened."""

FAILED = _Outcome("FAILED")
"""The output of a failed operation whose failure the model checks (see ``Model.failures_checked``)."""

Step = Callable[[Any, str, Any, Any], tuple[bool, Any]]


def freeze(value: Any) -> Hashable:
    """Turn a JSON value into a hashable one: lists become tuples, dicts sorted tuples of (key, value) pairs."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((k, freeze(v)) for k, v in value.items()), key=lambda kv: repr(kv[0])))
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    return value


def show(value: Any) -> str:
    """A short, JSON-like text for a value or state in a witness (``nil`` for None, as Jepsen writes it)."""
    if value is None:
        return "nil"
    if isinstance(value, frozenset):
        return "#{" + " ".join(sorted(show(v) for v in value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + " ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)} {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _describe_op(op: Operation) -> str:
    return op.describe()


@attrs.frozen
class Model:
    """A sequential specification: ``init`` state plus a pure ``step``; optionally how to split a history by key.

    ``functions`` lists the operation names the model understands (None: any), so a history with a typo fails
    early with a message instead of a wrong verdict. ``partition_by`` maps an operation to a key; when set, the
    checker checks each key's operations on their own (P-compositionality), which is sound only when operations on
    different keys never affect each other. ``from_json`` turns a JSON value (``--initial``) into a state.
    """

    name: str
    init: Hashable
    step: Step
    functions: tuple[str, ...] | None = None
    failures_checked: frozenset[str] = frozenset()
    partition_by: Callable[[Operation], Hashable] | None = None
    describe_state: Callable[[Any], str] = show
    describe_op: Callable[[Operation], str] = _describe_op
    from_json: Callable[[Any], Hashable] = freeze
    doc: str = ""
    # Optional, and only where it is sound for the model: drop operations whose outcome nobody saw and whose
    # presence can never make a history linearizable that is not linearizable without them (a register's write
    # that no read returned). Each unobserved operation doubles the configurations the search may visit.
    prune: Callable[[list[Operation]], list[Operation]] | None = None

    def partition(self, operations: Iterable[Operation]) -> list[list[Operation]]:
        """Split operations into independent groups (one per key), each in invocation order."""
        ops = list(operations)
        if self.partition_by is None:
            return [ops]
        groups: dict[Hashable, list[Operation]] = {}
        for op in ops:
            groups.setdefault(self.partition_by(op), []).append(op)
        return list(groups.values())
