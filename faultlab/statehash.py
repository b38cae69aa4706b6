"""The state of a simulation at a step, as a digest: what exhaustive search prunes revisited states by.

Two points of two runs with the same digest must have the same futures: the same choices from there on give the
same history and the same verdict. So the digest covers everything a future can depend on:

* the engine's own state: virtual time, the step count (a budget), the network (every message in flight, held or
  slowed, the cuts), storage (synced and not), which nodes are down and their incarnations, clock skews, roles,
  the fault injector's counters and aim, the client bookkeeping, the history so far (the invariants judge it);
* every trio task: for each frame of its await chain, the code and the instruction it is parked at and its local
  variables, and the deadlines of the cancel scopes it runs under (timers, timeouts); node objects are reached
  through those frames and hashed by their attributes.

Values are encoded structurally (numbers, strings, containers, attrs classes, objects by their attributes, bound
methods and closures by their function and captured values). What cannot be encoded (an object of a C type with no
readable state) is encoded by its identity, which no other run shares: the state is then never equal to another,
which costs pruning, never soundness: the search keeps every object so encoded alive until it ends, so no later run
reuses its identity. Digests are compared within one search, in one process.
"""

from __future__ import annotations

import collections
import enum
import functools
import hashlib
import random
import types
from typing import TYPE_CHECKING, Any

import attrs
import trio

if TYPE_CHECKING:
    from faultlab.runtime import Simulation

MAX_DEPTH = 48
_PRIMITIVES = (type(None), bool, int, float, str, bytes)


class _Encoder:
    def __init__(self, atoms: dict[int, str], keep: list[Any]):
        self.atoms = atoms           # id -> tag: objects that are encoded by name (the simulation, its choices, ...)
        self.memo: dict[int, int] = {}  # id -> index of its first encoding (shared and cyclic references)
        self.keep = keep             # objects encoded by identity, kept alive for the whole search

    def enc(self, v: Any, depth: int = 0) -> Any:
        if isinstance(v, _PRIMITIVES):
            return v if not isinstance(v, float) else ("f", v.hex())
        tag = self.atoms.get(id(v))
        if tag is not None:
            return ("@", tag)
        if isinstance(v, enum.Enum):
            return ("enum", type(v).__qualname__, v.name)
        if depth > MAX_DEPTH:
            return self.identity(v)
        key = id(v)
        if key in self.memo:
            return ("ref", self.memo[key])
        self.memo[key] = len(self.memo)
        d = depth + 1
        t = type(v)
        if t in (tuple, list, collections.deque):
            return (t.__name__, tuple(self.enc(x, d) for x in v))
        if isinstance(v, dict):  # in insertion order, which iteration (and so the protocol) follows
            return (t.__name__, tuple((self.enc(k, d), self.enc(x, d)) for k, x in v.items()))
        if isinstance(v, (set, frozenset)):
            return (t.__name__, tuple(sorted((self.enc(x, d) for x in v), key=repr)))
        if isinstance(v, (types.CoroutineType, types.GeneratorType)):
            return ("coro", self.frames(v, d))
        if isinstance(v, types.MethodType):
            return ("method", v.__func__.__qualname__, self.enc(v.__self__, d))
        if isinstance(v, types.FunctionType):
            cells = tuple(self.enc(c.cell_contents, d) if _filled(c) else ("empty",) for c in v.__closure__ or ())
            return ("fn", v.__module__, v.__qualname__, cells, self.enc(v.__defaults__, d))
        if isinstance(v, functools.partial):
            return ("partial", self.enc(v.func, d), self.enc(v.args, d), self.enc(v.keywords, d))
        if isinstance(v, (types.BuiltinFunctionType, type)):
            return ("builtin", getattr(v, "__module__", None), getattr(v, "__qualname__", repr(v)))
        if isinstance(v, random.Random):
            return ("rng", self.enc(v.getstate(), d))
        trio_state = self.trio_object(v, d)
        if trio_state is not None:
            return trio_state
        if attrs.has(t):
            return ("attrs", t.__module__, t.__qualname__,
                    tuple(self.enc(getattr(v, f.name, None), d) for f in attrs.fields(t)))
        fields = _fields(v)
        if fields is not None:
            return ("obj", t.__module__, t.__qualname__, tuple((k, self.enc(x, d)) for k, x in fields))
        return self.identity(v)  # unreadable: equal only to itself

    def identity(self, v: Any) -> Any:
        self.keep.append(v)
        return ("?", id(v))

    def trio_object(self, v: Any, d: int) -> Any:
        """trio's objects by what matters of them (a task's scheduler links do not)."""
        if isinstance(v, trio.CancelScope):
            return ("scope", ("f", float(v.deadline).hex()), v.cancel_called, v.shield)
        if isinstance(v, trio.Event):
            return ("event", v.is_set())
        if isinstance(v, (trio.MemorySendChannel, trio.MemoryReceiveChannel)):
            state = getattr(v, "_state", None)
            return ("channel", type(v).__name__, self.enc(list(getattr(state, "data", ())), d),
                    getattr(v, "_closed", None))
        if isinstance(v, (trio.lowlevel.Task, trio.Nursery)):
            return ("trio", type(v).__name__)  # tasks are encoded once each, from the task tree
        if isinstance(v, (trio.Lock, trio.StrictFIFOLock, trio.Semaphore, trio.CapacityLimiter, trio.Condition)):
            # by their statistics (held or not, by which task, how many wait); the waiting tasks' own state is in
            # the task tree
            stats = v.statistics()
            return ("sync", type(v).__name__, tuple(
                (k, x.name if isinstance(x, trio.lowlevel.Task) else self.enc(x, d))
                for k, x in sorted(vars(stats).items() if hasattr(stats, "__dict__") else
                                   ((f.name, getattr(stats, f.name)) for f in attrs.fields(type(stats))))))
        module = type(v).__module__ or ""
        if module == "trio" or module.startswith("trio."):
            return self.identity(v)
        return None

    def frames(self, coro: Any, d: int) -> tuple:
        out = []
        obj = coro
        while obj is not None:
            frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
            if frame is None:
                out.append(("awaiting", type(obj).__qualname__))
                break
            code = frame.f_code
            module = frame.f_globals.get("__name__", "")
            if module == "trio" or module.startswith(("trio.", "outcome", "contextlib", "asyncio")):
                # trio's own frames: where they are parked and their plain values (a deadline); their tasks and
                # abort functions are scheduler links, and the deadlines are read from the cancel scopes
                local = tuple((k, x if not isinstance(x, float) else ("f", x.hex()))
                              for k, x in sorted(frame.f_locals.items()) if isinstance(x, _PRIMITIVES))
            else:
                local = tuple((k, self.enc(x, d)) for k, x in sorted(frame.f_locals.items()))
            out.append((module, code.co_qualname, frame.f_lasti, local))
            obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
        return tuple(out)


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _fields(v: Any) -> list[tuple[str, Any]] | None:
    names: list[str] = []
    for klass in type(v).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    out = [(n, getattr(v, n)) for n in names if n not in ("__weakref__", "__dict__") and hasattr(v, n)]
    if hasattr(v, "__dict__"):
        out += sorted(vars(v).items())
    elif not names:
        return None
    return out


def _deadlines(task: Any) -> tuple:
    """The deadlines of the cancel scopes ``task`` runs under, innermost first."""
    out = []
    status = getattr(task, "_cancel_status", None)
    while status is not None:
        scope = getattr(status, "_scope", None)
        if scope is not None:
            out.append((("f", float(scope.deadline).hex()), scope.cancel_called))
        status = getattr(status, "_parent", None)
    return tuple(out)


def _tasks(enc: _Encoder) -> list[str]:
    """Every task's encoding, as text, sorted (trio keeps a nursery's children in a set, in no fixed order). Each
    task is encoded on its own after the engine's state: what it shares with the engine is a reference into that,
    what it shares with another task is encoded in both, so no task's text depends on the order of the walk."""
    out = []
    engine_memo = enc.memo

    def walk(task: Any) -> None:
        enc.memo = dict(engine_memo)
        out.append(repr((task.name, enc.frames(task.coro, 1), _deadlines(task))))
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child)

    walk(trio.lowlevel.current_root_task())
    out.sort()
    return out


def state_digest(sim: Simulation, keep: list[Any]) -> bytes:
    """The digest of ``sim``'s state (call it from inside the run, at a step: every task blocked). Objects encoded
    by identity are appended to ``keep``, which the caller holds for as long as it compares digests."""
    atoms = {id(sim): "sim", id(sim.choices): "choices", id(sim.protocol): "protocol", id(sim.config): "config",
             id(sim.injector): "injector", id(sim._clock): "clock", id(sim.settings): "settings",
             id(sim.network): "network", id(sim.factories): "factories", id(sim.timers): "timers"}
    enc = _Encoder(atoms, keep)
    inj = sim.injector
    engine = (("f", float(sim._clock.now).hex()), sim.steps, sim.truncated, sim.coin_seed,
              enc.enc(_fields(sim.network)), enc.enc(sim.storages), enc.enc(sim.history),
              tuple(sorted(sim.down)), enc.enc(sim.incarnation), enc.enc(sim.skew), enc.enc(sim.roles),
              (inj.enabled, ("f", float(inj.rate).hex()), inj.faults, inj.crashes, inj.boost, inj.focus),
              sim.last_invoked, sim._op_counter, sim._clients_done, sim._final_done,
              enc.enc(sim._endpoints), enc.enc(sim.contexts))
    h = hashlib.sha256(repr(engine).encode())
    for task in _tasks(enc):
        h.update(b"\0" + task.encode())
    return h.digest()
