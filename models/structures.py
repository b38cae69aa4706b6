"""Models of data structures: a key-value store of strings, a FIFO queue, a grow-only set and an append-only log.

Each is a :class:`models.sequential.Model`; see that module for the contract ``step`` keeps. States are tuples and
frozensets so the checker can memoize on them.
"""

from __future__ import annotations

from typing import Any

from faultlab.history import Operation
from models.sequential import UNKNOWN, Model, freeze, show


def _kv_key_value(input: Any) -> tuple[Any, Any]:
    """The key and value of a kv input: ``{"key": k, "value": v}`` (our importers) or ``[k, v]`` (Jepsen)."""
    if isinstance(input, dict):
        return input.get("key"), input.get("value")
    if isinstance(input, list | tuple) and len(input) == 2:
        return input[0], input[1]
    return input, None


def _kv_key(op: Operation) -> Any:
    return freeze(_kv_key_value(op.input)[0])


def _kv_step(state: tuple, f: str, input: Any, output: Any) -> tuple[bool, tuple]:
    # The checker calls this once per new (operation, state) pair, hundreds of thousands of times on a busy key, so
    # the common shapes (a dict input, a string key, a state holding only this key) take a short path.
    if type(input) is dict:
        key, value = input.get("key"), input.get("value")
    else:
        key, value = _kv_key_value(input)
    if type(key) is not str:
        key = freeze(key)
    current = ""
    for k, v in state:
        if k == key:
            current = v
            break
    if f == "get":
        if isinstance(output, list | tuple) and len(output) == 2:  # Jepsen's [k v]
            output = output[1]
        return output is not UNKNOWN and output == current, state
    new = value if f == "put" else current + value
    if not state or (len(state) == 1 and state[0][0] == key):
        return True, ((key, new),)
    values = dict(state)
    values[key] = new
    return True, tuple(sorted(values.items(), key=lambda kv: repr(kv[0])))


def _describe_kv(state: tuple) -> str:
    return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in state) + "}" if state else '{} (every key "")'


def _describe_kv_op(op: Operation) -> str:
    key, value = _kv_key_value(op.input)
    args = show(key) if op.f == "get" else f"{show(key)}, {show(value)}"
    outcome = {"ok": f"ok {show(op.output)}" if op.f == "get" else "ok", "fail": "fail",
               "info": "unknown (info)"}[op.status]
    return f"process {op.process} {op.f}({args}) -> {outcome} [t={op.call:g}..{op.ret:g}]"


kv = Model(
    name="kv", init=(), step=_kv_step, functions=("get", "put", "append"), partition_by=_kv_key,
    describe_state=_describe_kv, describe_op=_describe_kv_op,
    doc='String values by key, each "" until written: get returns the value, put replaces it, append concatenates. '
        "Checked key by key.",
)


def _queue_step(items: tuple, f: str, input: Any, output: Any) -> tuple[bool, tuple]:
    if f == "enqueue":
        return True, items + (freeze(input),)
    if not items:  # dequeue from an empty queue returns nil; unobserved, it has no effect
        return output is None, items
    return output is UNKNOWN or freeze(output) == items[0], items[1:]


queue = Model(
    name="queue", init=(), step=_queue_step, functions=("enqueue", "dequeue"),
    doc="A FIFO queue: dequeue returns the oldest value enqueued and not yet dequeued, nil when empty.",
)


def _set_step(members: frozenset, f: str, input: Any, output: Any) -> tuple[bool, frozenset]:
    if f == "add":
        return True, members | {freeze(input)}
    return output is not UNKNOWN and frozenset(freeze(v) for v in (output or ())) == members, members


set_model = Model(
    name="set", init=frozenset(), step=_set_step, functions=("add", "read"),
    from_json=lambda value: frozenset(freeze(v) for v in (value or ())),
    doc="A grow-only set: read returns exactly the values added so far.",
)


def _log_step(entries: tuple, f: str, input: Any, output: Any) -> tuple[bool, tuple]:
    if f == "append":
        return True, entries + (freeze(input),)
    return output is not UNKNOWN and freeze(list(output or ())) == entries, entries


log = Model(
    name="log", init=(), step=_log_step, functions=("append", "read"),
    doc="An append-only log: read returns every value appended so far, in order.",
)
