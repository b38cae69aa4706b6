"""Linearizability: is there one order of the operations that respects real time and the sequential model?

The search is Wing and Gong's, with Lowe's memoization, laid out as in porcupine's ``checker.go``: the history is a
doubly linked list of call and return entries in time order; the search walks it from the head, tries to take
effect ("linearize") each operation whose call it meets, backtracks when it meets the return of an operation it has
not linearized, and remembers every (set of linearized operations, model state) it has been in, so no
configuration is explored twice. The set is an ``int`` used as a bitset; states are interned to small ints, and
each operation's transitions are computed once per state, so the inner loop does no model calls and allocates
nothing but ints.

How outcomes are read (see :mod:`faultlab.history`):

* ``ok``: happened, once, between its call and its return, with the output the client saw;
* ``fail``: did not happen, and is dropped, unless the model checks that failure (``Model.failures_checked``:
  etcd's failed compare-and-set still says the value was not the expected one);
* ``info`` or never completed: may take effect at any time after its call, or never. It has no return entry, so
  it is never forced: the search succeeds once every ``ok`` operation is linearized. Two unobserved operations
  with the same function and input are interchangeable, so only the earliest unlinearized one is tried.

Histories whose model partitions by key are checked key by key (P-compositionality). Partitions run interleaved,
smallest first, in slices, so one hard key cannot starve the verdict; the first violation stops the check.

Budgets: ``timeout`` (seconds), ``max_steps`` (search steps over all partitions) and ``max_cache`` (memoized
configurations, bounding memory) turn an undecided search into ``unknown``, reporting the longest linearizable
prefix found. Without a budget the search is exhaustive, hence exponential in the worst case: give untrusted or
very concurrent histories a timeout.

Witness (other code depends on these keys): ``linearization`` (ok: ``call_index`` of each operation in order,
partitions concatenated); ``failed_op``, ``longest_prefix``, ``states``, ``partition`` (violated); ``longest_prefix``
and ``partition`` (unknown).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Sequence
from typing import Any

from faultlab.errors import ConfigError
from faultlab.history import History, Operation
from faultlab.result import CheckResult, InvariantViolation
from models.sequential import FAILED, UNKNOWN, Model

CHECKER = "linearizable"
# The budget for a check inside a simulated run: counted in search steps, never in seconds, so a verdict does not
# depend on how loaded the machine is. Runs of the built-in workloads need a few hundred to a few thousand steps;
# exhausting it makes the run's check unknown (and the exploration unknown), never a pass.
RUN_SEARCH_STEPS = 1_000_000
_MODEL_DEFAULT: Any = object()
_SLICE = 2048  # search steps between looks at the clock and turns between partitions
_STUCK_STATES_KEPT = 8
_HEAD = -(1 << 62)  # node_op of the head (and tail): visiting the head means "backtrack"


def check_linearizable(history_or_operations: History | Iterable[Operation], model: Model | str, *,
                       initial: Any = _MODEL_DEFAULT, timeout: float | None = None, max_steps: int | None = None,
                       max_cache: int = 2_000_000) -> CheckResult:
    """Check that the operations have a linearization under ``model``; ``ok``, ``violated`` or ``unknown``.

    ``model`` is a :class:`models.Model` or a registered model's name. ``initial`` is a model state (hashable;
    ``model.from_json`` converts JSON); by default the model's own. An empty history is ``unknown``: there is
    nothing to judge.
    """
    if isinstance(model, str):
        from models import get_model

        model = get_model(model)
    state0 = model.init if initial is _MODEL_DEFAULT else initial
    try:
        hash(state0)
    except TypeError:
        raise ConfigError(f"initial state {state0!r} of model {model.name!r} is not hashable; convert JSON with "
                          f"model.from_json(value)") from None
    operations = (history_or_operations.operations() if isinstance(history_or_operations, History)
                  else sorted(history_or_operations, key=lambda o: o.call_index))
    if not operations:
        return CheckResult.unexercised(CHECKER, "The history has no operations: there is nothing to judge.",
                                       linearization=[], longest_prefix=[], partition=None, operations=0)
    _check_functions(operations, model)
    kept = [op for op in operations if op.status != "fail" or op.f in model.failures_checked]
    if model.prune is not None:
        kept = model.prune(kept)
    parts = [p for p in model.partition(kept) if p]
    keys = [model.partition_by(p[0]) if model.partition_by is not None else None for p in parts]
    searches = [_Search(p, model, state0) for p in parts]
    deadline = None if timeout is None else time.monotonic() + timeout
    outcome = _run_interleaved(searches, deadline, max_steps, max_cache)
    return _result(outcome, searches, keys, model, len(operations), timeout, max_steps, max_cache)


def assert_linearizable(history_or_operations: History | Iterable[Operation], model: Model | str,
                        **budget: Any) -> CheckResult:
    """Like :func:`check_linearizable`, but raise :class:`InvariantViolation` unless the verdict is ``ok``."""
    result = check_linearizable(history_or_operations, model, **budget)
    if not result.ok:
        raise InvariantViolation(result)
    return result


def _check_functions(operations: Sequence[Operation], model: Model) -> None:
    if model.functions is None:
        return
    for op in operations:
        if op.f not in model.functions:
            from models import MODELS

            fits = [m.name for m in MODELS.values() if m.functions and op.f in m.functions]
            hint = f"models with {op.f!r}: {', '.join(fits)}" if fits else "define a model that has it"
            raise ConfigError(f"operation at event {op.call_index} ({op.describe()}) calls {op.f!r}, which the "
                              f"{model.name!r} model does not have (it has {', '.join(model.functions)}); {hint}")


class _Search:
    """The WGL search over one partition, run in slices by :func:`_run_interleaved`.

    ``run()`` is a generator: it yields every ``_SLICE`` steps and returns True (linearizable) or False. What it
    established so far lives on the object (``best_prefix``, ``failed``, ``stuck``), so a search stopped by a budget
    still reports it.
    """

    def __init__(self, ops: list[Operation], model: Model, initial: Any, *, memoize: bool = True,
                 heuristics: bool = True):
        self.ops = ops
        self.model = model
        self.memoize = memoize
        self.heuristics = heuristics
        self.states: list[Any] = [initial]  # interned states: a state's id is its index here
        self.state_ids: dict[Any, int] = {initial: 0}
        self.steps = 0
        self.cache_size = 0
        self.linearization: list[int] = []  # local op indices, once found
        self.best_prefix: list[int] = []
        self.failed = -1  # the op whose return ended the longest prefix
        self.failed_state = 0
        self.stuck: list[set[int]] = [set() for _ in ops]  # states the search was in when it met an op's return
        self.outputs = [UNKNOWN if op.status == "info" else FAILED if op.status == "fail" else op.output
                        for op in ops]

    def __len__(self) -> int:
        return len(self.ops)

    def transition(self, op: int, state: int) -> int:
        """The id of the state after ``op`` from state ``state``, or -1 if the model says it is illegal."""
        o = self.ops[op]
        legal, new = self.model.step(self.states[state], o.f, o.input, self.outputs[op])
        if not legal:
            return -1
        sid = self.state_ids.get(new)
        if sid is None:
            sid = self.state_ids[new] = len(self.states)
            self.states.append(new)
        return sid

    def _entries(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """The linked list: node 0 is the head, the last the tail; ``node_op`` is op for a call, ~op for a return."""
        ops = self.ops
        by_index = all(op.ret_index is not None or op.status == "info" for op in ops)
        entries = []
        for i, op in enumerate(ops):
            entries.append(((op.call_index,) if by_index else (op.call, 0), i))
            if op.status != "info":
                entries.append(((op.ret_index,) if by_index else (op.ret, 1), ~i))
        entries.sort()
        n_nodes = len(entries) + 2
        node_op = [_HEAD] + [e[1] for e in entries] + [_HEAD]
        match = [0] * n_nodes
        call_node = {}
        for node in range(1, n_nodes - 1):
            op = node_op[node]
            if op >= 0:
                call_node[op] = node
            else:
                match[call_node[~op]] = node
        nxt = list(range(1, n_nodes)) + [0]
        prv = [0] + list(range(0, n_nodes - 1))
        return node_op, match, nxt, prv

    def _interchangeable(self) -> list[int]:
        """For each unobserved op, the previous unobserved op with the same function and input (else -1)."""
        prev_same = [-1] * len(self.ops)
        last: dict[Any, int] = {}
        for i, op in enumerate(self.ops):
            if op.status != "info":
                continue
            key = (op.f, repr(op.input))
            prev_same[i] = last.get(key, -1)
            last[key] = i
        return prev_same

    def run(self) -> Generator[None, None, bool]:
        n = len(self.ops)
        node_op, match, nxt, prv = self._entries()
        required = [0 if op.status == "info" else 1 for op in self.ops]
        prev_same = self._interchangeable() if self.heuristics else [-1] * n
        forcible = required if self.heuristics else [0] * n
        bit = [1 << i for i in range(n)]
        trans: list[dict[int, int]] = [{} for _ in range(n)]
        shifted = [0]  # state id << n: the state's part of a cache key
        # The model's inputs, read once: a transition not yet known calls the model and interns the new state inline
        # (a method call per step costs as much as the rest of the step).
        step = self.model.step
        fs = [op.f for op in self.ops]
        inputs = [op.input for op in self.ops]
        outputs = self.outputs
        states = self.states
        state_ids = self.state_ids
        stuck = self.stuck
        cache: Any = set() if self.memoize else _NoCache()
        changes = [0] * n
        calls: list[tuple[int, int, int, int]] = []  # (call node, state before, linearized before, forced)
        linearized = 0
        state = 0
        remaining = sum(required)
        node = nxt[0]
        steps = 0
        next_yield = _SLICE
        best = -1
        while remaining:
            steps += 1
            if steps >= next_yield:
                next_yield += _SLICE
                self.steps, self.cache_size = steps, len(cache)
                yield
            op = node_op[node]
            if op >= 0:
                ps = prev_same[op]
                if ps < 0 or linearized & bit[ps]:
                    to = trans[op]
                    ns = to.get(state, -2)
                    if ns == -2:
                        legal, new = step(states[state], fs[op], inputs[op], outputs[op])
                        if legal:
                            ns = state_ids.get(new, -1)
                            if ns < 0:
                                ns = state_ids[new] = len(states)
                                states.append(new)
                                shifted.append(ns << n)
                        else:
                            ns = -1
                        to[state] = ns
                    if ns >= 0:
                        new_linearized = linearized | bit[op]
                        key = new_linearized | shifted[ns]
                        # A required op that is legal here and leaves the state as it is can go first in any
                        # completion from here (nothing still open must precede it), so commit to it: if the
                        # search fails after it, this configuration fails too and its other choices are skipped.
                        forced = forcible[op] and ns == state
                        if key not in cache:
                            cache.add(key)
                            calls.append((node, state, linearized, forced))
                            state = ns
                            linearized = new_linearized
                            remaining -= required[op]
                            p = prv[node]
                            q = nxt[node]
                            nxt[p] = q
                            prv[q] = p
                            m = match[node]
                            if m:
                                p = prv[m]
                                q = nxt[m]
                                nxt[p] = q
                                prv[q] = p
                            node = nxt[0]
                            # Look ahead among the calls now open (those before the first return) for a required op
                            # already known to be legal here without changing the state, and take it first: it is
                            # forced (see above), so its siblings are never tried. Sound because the only ops that
                            # must precede an open call are ones whose return comes before it, and those are all
                            # linearized already. Only cached transitions are looked at (a model call per open op
                            # per new state costs more than it saves on kv); ``changes`` skips ops seen to change it.
                            n2 = node
                            while True:
                                o2 = node_op[n2]
                                if o2 < 0:
                                    break
                                if forcible[o2] and not changes[o2]:
                                    t2 = trans[o2]
                                    ns2 = t2.get(state, -2)
                                    if ns2 == state:
                                        node = n2
                                        break
                                    if ns2 >= 0:
                                        changes[o2] = 1
                                n2 = nxt[n2]
                            continue
                        if forced:  # that configuration was explored and failed, so this one fails: backtrack
                            node = 0
                            continue
                node = nxt[node]
            else:  # the return of an op not yet linearized (or the head, sent here): undo the last choice
                if op != _HEAD:
                    seen = stuck[~op]
                    if len(seen) < _STUCK_STATES_KEPT:
                        seen.add(state)
                    if len(calls) > best:
                        best = len(calls)
                        self.best_prefix = [node_op[c[0]] for c in calls]
                        self.failed, self.failed_state = ~op, state
                forced = 1
                while forced:  # undo forced choices too: their configurations had no other way out
                    if not calls:
                        self.steps, self.cache_size = steps, len(cache)
                        return False
                    node, state, linearized, forced = calls.pop()
                    remaining += required[node_op[node]]
                    m = match[node]
                    if m:
                        nxt[prv[m]] = m
                        prv[nxt[m]] = m
                    nxt[prv[node]] = node
                    prv[nxt[node]] = node
                node = nxt[node]
        self.steps, self.cache_size = steps, len(cache)
        self.linearization = [node_op[c[0]] for c in calls]
        return True


class _NoCache:
    """Stands in for the memo set when a benchmark measures the search without memoization."""

    def __contains__(self, key: int) -> bool:
        return False

    def add(self, key: int) -> None:
        pass

    def __len__(self) -> int:
        return 0


class _Outcome:
    """Which partitions were decided how, and why the check stopped."""

    def __init__(self):
        self.decided: dict[int, bool] = {}  # search index -> linearizable?
        self.stopped_by: str | None = None  # the budget that ran out, if any


def _run_interleaved(searches: list[_Search], deadline: float | None, max_steps: int | None,
                     max_cache: int) -> _Outcome:
    """Run the searches a slice at a time, smallest partition first, until one fails or all finish or a budget ends."""
    outcome = _Outcome()
    active = sorted(range(len(searches)), key=lambda i: (len(searches[i]), i))
    runs = {i: searches[i].run() for i in active}
    # Running totals of every search's steps and cache: summing them over all partitions after each slice made a
    # history of many small keys quadratic (100k keys: 64M additions for 80k operations).
    steps = sum(s.steps for s in searches)
    cached = sum(s.cache_size for s in searches)
    while active:
        for i in list(active):
            search = searches[i]
            before_steps, before_cache = search.steps, search.cache_size
            try:
                next(runs[i])
            except StopIteration as done:
                outcome.decided[i] = done.value
                active.remove(i)
                if not done.value:
                    for j in active:
                        runs[j].close()
                    return outcome
            steps += search.steps - before_steps
            cached += search.cache_size - before_cache
            if (deadline is not None and time.monotonic() > deadline):
                outcome.stopped_by = "time"
            elif max_steps is not None and steps > max_steps:
                outcome.stopped_by = "steps"
            elif cached > max_cache:
                outcome.stopped_by = "memory"
            if outcome.stopped_by and active:
                for j in active:
                    runs[j].close()
                return outcome
    return outcome


def _result(outcome: _Outcome, searches: list[_Search], keys: list[Any], model: Model, n_operations: int,
            timeout: float | None, max_steps: int | None, max_cache: int) -> CheckResult:
    steps = sum(s.steps for s in searches)
    common = {"operations": n_operations, "partitions": len(searches), "steps": steps}
    where = (lambda i: f" (partition {keys[i]!r})") if model.partition_by is not None else (lambda i: "")
    violated = [i for i, ok in outcome.decided.items() if not ok]
    if violated:
        i = violated[0]
        s = searches[i]
        return CheckResult.violation(
            CHECKER, _explain_violation(s, model, where(i)),
            failed_op=s.ops[s.failed].call_index,
            longest_prefix=[s.ops[k].call_index for k in s.best_prefix],
            states=[model.describe_state(s.states[sid]) for sid in sorted(s.stuck[s.failed])],
            partition=keys[i], **common)
    undecided = [i for i in range(len(searches)) if i not in outcome.decided]
    if undecided:
        i = max(undecided, key=lambda k: len(searches[k]))
        s = searches[i]
        budget = {"time": lambda: f"the {timeout:g} s timeout",
                  "steps": lambda: f"the budget of {max_steps} search steps",
                  "memory": lambda: f"the memo cache limit of {max_cache} configurations"}[outcome.stopped_by]()
        return CheckResult.undecided(
            CHECKER,
            f"Gave up at {budget} after {steps} search steps: {len(outcome.decided)} of {len(searches)} partitions "
            f"are linearizable, {len(undecided)} undecided. The longest linearizable prefix found{where(i)} has "
            f"{len(s.best_prefix)} of its {len(s.ops)} operations; neither a linearization nor a contradiction was "
            f"found, so this is not a verdict. Give a larger budget to decide.",
            longest_prefix=[s.ops[k].call_index for k in s.best_prefix], partition=keys[i],
            decided_partitions=[keys[k] for k in outcome.decided], **common)
    linearization = [s.ops[k].call_index for s in searches for k in s.linearization]
    unobserved = sum(1 for s in searches for op in s.ops if op.status == "info")
    taken = sum(1 for s in searches for k in s.linearization if s.ops[k].status == "info")
    parts = f" in {len(searches)} independent partitions" if len(searches) > 1 else ""
    return CheckResult.holds(
        CHECKER,
        f"The {n_operations} operations can be ordered{parts} so that each takes effect between its call and its "
        f"return and the {model.name} model accepts every step"
        + (f" ({taken} of the {unobserved} operations with unknown outcome took effect, the rest never did)"
           if unobserved else "") + ": the history is linearizable.",
        linearization=linearization, **common)


def _explain_violation(s: _Search, model: Model, where: str) -> str:
    describe = model.describe_op
    prefix = s.best_prefix
    failed = s.ops[s.failed]
    if prefix:
        last = describe(s.ops[prefix[-1]])
        let = (f"Let P be the longest prefix{where} that the search could put in an order respecting real time and "
               f"the {model.name} model: {len(prefix)} of {len(s.ops)} operations, ending with {last}; after P the "
               f"state is {model.describe_state(s.states[s.failed_state])}.")
    else:
        let = (f"Let P be empty{where}: no operation can come first; the initial state is "
               f"{model.describe_state(s.states[0])}.")
    stuck = sorted(s.stuck[s.failed])
    illegal = [sid for sid in stuck if s.transition(s.failed, sid) < 0]
    states = ", ".join(model.describe_state(s.states[sid]) for sid in stuck)
    then = (f" Then {describe(failed)} must take effect before it returns, after P or after some of the operations "
            f"still open then; the states the search reached at that point are {states}, and from none of them "
            f"does an order of the remaining operations let it take effect")
    if illegal:
        then += (f" (it is illegal in {', '.join(model.describe_state(s.states[sid]) for sid in illegal)})")
    return let + then + ". So no order of the operations agrees with both real time and the model: a contradiction!"
