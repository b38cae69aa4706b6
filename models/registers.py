"""Register models: a single register, etcd's compare-and-set register, a mutex, and a multi-key register.

Each is a :class:`models.sequential.Model`; see that module for the contract ``step`` keeps. Values are compared as
values (:func:`same`, on :func:`models.sequential.freeze`-d JSON values), so a register written ``3`` and read ``3``
agrees, and one written the map ``{"a": [1, 2]}`` and read it back agrees too.
"""

from __future__ import annotations

from typing import Any

from models.sequential import FAILED, UNKNOWN, Model, freeze, show


def same(a: Any, b: Any) -> bool:
    """Value equality as a history means it: ``true`` is not ``1`` (Python's ``True == 1`` would make a register
    written ``true`` and read ``1`` linearizable), element by element inside lists and maps."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _register_step(state: Any, f: str, input: Any, output: Any) -> tuple[bool, Any]:
    if f == "write":
        return True, freeze(input)  # a map or vector is a value too: states are hashable, compared as values
    # read: None before any write. An unobserved read has no effect, which is the same as leaving it out.
    return output is not UNKNOWN and same(freeze(output), state), state


def _prune_register(ops: list) -> list:
    """Leave out unobserved reads (no effect, no output) and unobserved writes of a value no read returned.

    Sound: if a linearization takes effect a write W of v, every read between W and the next write returns v. No
    read returned v, so there is none, and dropping W changes no read's legality. Writes whose value some read
    returned stay: W may be what that read saw.
    """
    seen = {_key(op.output) for op in ops if op.f == "read" and op.status == "ok"}
    return [op for op in ops if op.status != "info" or (op.f == "write" and _key(op.input) in seen)]


def _key(value: Any) -> Any:
    return freeze(value)


register = Model(
    name="register", init=None, step=_register_step, functions=("read", "write"), prune=_prune_register,
    doc="A single read/write register (etcd/porcupine semantics): a read returns the last value written, nil "
        "only before any write; see knossos-register for Jepsen's.",
)


def _cas_register_step(state: Any, f: str, input: Any, output: Any) -> tuple[bool, Any]:
    if f == "read":
        return output is not UNKNOWN and output is not FAILED and same(freeze(output), state), state
    if f == "write":
        return output is not FAILED, freeze(input)  # a failed write is left out before it reaches here
    expected, new = freeze(input)
    if output is FAILED:  # etcd: a cas that definitely failed saw a value other than the expected one
        return not same(state, expected), state
    # ok: it saw the expected value. UNKNOWN: if it would fail it has no effect, the same as leaving it out.
    return same(state, expected), new


def _describe_cas_op(op) -> str:
    if op.f == "cas" and isinstance(op.input, list | tuple) and len(op.input) == 2:
        outcome = {"ok": "ok", "fail": "fail", "info": "unknown (info)"}[op.status]
        return (f"process {op.process} cas({show(op.input[0])} -> {show(op.input[1])}) -> {outcome} "
                f"[events {op.call_index}..{'∞' if op.ret_index is None or op.status == 'info' else op.ret_index}]")
    return op.describe()


cas_register = Model(
    name="cas-register", init=None, step=_cas_register_step, functions=("read", "write", "cas"),
    failures_checked=frozenset({"cas"}), describe_op=_describe_cas_op,
    doc="A register with compare-and-set [A, B] (etcd/porcupine semantics): an ok cas saw A and wrote B; a failed "
        "cas saw a value other than A; a read returns the current value, nil before any write; see "
        "knossos-cas-register for Jepsen's.",
)


# -- Knossos's semantics (knossos.model/register and cas-register, as Jepsen's own checkers apply them) -------------
# Two differences from the etcd-style models above, which are porcupine's: Knossos drops every failed operation
# before checking (a failed cas says nothing about the value it saw), and a read whose value is nil matches any
# state (Knossos's step: `(if (or (nil? (:value op)) (= value (:value op))) ...)`: nil is "did not see", not "saw
# the initial value").

def _knossos_register_step(state: Any, f: str, input: Any, output: Any) -> tuple[bool, Any]:
    if f == "write":
        return True, freeze(input)
    return output is not UNKNOWN and (output is None or same(freeze(output), state)), state


def _knossos_cas_register_step(state: Any, f: str, input: Any, output: Any) -> tuple[bool, Any]:
    if f == "read":
        return output is not UNKNOWN and (output is None or same(freeze(output), state)), state
    if f == "write":
        return True, freeze(input)
    expected, new = freeze(input)
    return same(state, expected), new  # ok or unknown: if it took effect, it saw the expected value


knossos_register = Model(
    name="knossos-register", init=None, step=_knossos_register_step, functions=("read", "write"),
    doc="A read/write register with Knossos's semantics (Jepsen's checker): failed operations are left out and a "
        "read of nil matches any value; use `register` for etcd/porcupine semantics, where nil is the initial "
        "value.",
)

knossos_cas_register = Model(
    name="knossos-cas-register", init=None, step=_knossos_cas_register_step, functions=("read", "write", "cas"),
    describe_op=_describe_cas_op,
    doc="A compare-and-set register with Knossos's semantics (Jepsen's checker): an ok cas [A, B] saw A and wrote B, "
        "failed operations (a failed cas too) are left out, a read of nil matches any value; use `cas-register` "
        "for etcd/porcupine semantics.",
)


def _mutex_step(held: bool, f: str, input: Any, output: Any) -> tuple[bool, bool]:
    if f == "acquire":
        return not held, True
    return held, False  # release; an unobserved one is legal only where it has an effect


mutex = Model(
    name="mutex", init=False, step=_mutex_step, functions=("acquire", "release"),
    describe_state=lambda held: "held" if held else "free",
    doc="A lock: acquire is legal only when free, release only when held.",
)


def _transaction_step(state: tuple, f: str, input: Any, output: Any) -> tuple[bool, tuple]:
    # The completion carries the values read; the invoke only the keys. Without a completion, skip the reads.
    txn = output if output is not UNKNOWN and output is not None else input
    values = dict(state)
    for micro in txn:
        kind, key, value = micro
        if kind == "r":
            if output is not UNKNOWN and values.get(key) != value:
                return False, state
        elif kind == "w":
            values[key] = freeze(value)
        else:
            return False, state
    return True, freeze(values)


def _describe_registers(state: tuple) -> str:
    return "{" + ", ".join(f"{show(k)} {show(v)}" for k, v in state) + "}" if state else "{} (nothing written)"


multi_register = Model(
    name="multi-register", init=(), step=_transaction_step, functions=("txn",),
    describe_state=_describe_registers, from_json=freeze,
    doc='Registers by key, changed by transactions: a list of ["r", k, v] / ["w", k, v] applied atomically; a read '
        "of a key never written returns nil.",
)
