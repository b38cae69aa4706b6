"""Function invocations: the concurrency limit, the timeout, retries and the on-failure destination, and state kept
between invocations, judged from what the invocations left behind.

A serverless function's executions are not client operations: the history holds them as the outputs of final
operations that read the records the executions left, the way a Jepsen test reads a table after the run.

History conventions (``f`` names, all read from operations that ended ``ok``):

* ``invoke`` (an asynchronous invocation) and ``invoke-sync``: the invoke value is ``[event_id, kind, duration,
  key]``; an ``ok`` async invoke means the event was accepted (queued);
* final ``executions``: a list of execution records ``{"exec", "event", "kind", "sandbox", "begin", "commit",
  "end", "outcome", "key", "ticket"}``, one per execution that began. ``begin`` is when the function started
  running, ``commit`` when it issued its side effect (``None``: it never did: it failed, timed out or was killed),
  ``end`` when the runtime reported it stopped (its log's report line; ``None``: no report arrived, as when the
  worker crashed), all in the simulation's virtual time. So an execution was certainly running from ``begin`` to
  the latest of the three; when it stopped after that is not known;
* final ``failures``: the on-failure destination's entries ``{"event", "reason", "at", ...}``, ``at`` the time
  the event was sent there;
* final ``slots``: ``{"held": [lease, ...]}``, the concurrency slots the placement still counts as taken;
* final ``get-function-configuration``: ``{"concurrency_limit", "timeout", "maximum_retry_attempts",
  "maximum_event_age"}``, the settings the other checkers judge against (a keyword argument overrides it).

Every checker is conservative in one direction: a violation is only reported when the records prove it (executions
that were certainly running at one instant, a commit certainly after the failure), never from an execution's
unknown end. Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_concurrency_limit", "check_events_accounted", "check_failure_after_retries",
           "check_no_processing_after_failure", "check_slots_released", "check_stateless_tallies",
           "check_timeout_enforced"]

EPSILON = 1e-9  # virtual times are sums of floats


def _final(history: History, f: str) -> Operation | None:
    ops = [op for op in history.operations() if op.f == f and op.phase == "final" and op.is_ok]
    return ops[-1] if ops else None


def _setting(history: History, name: str, given: Any) -> Any:
    """A function setting: the keyword argument, else what the final get-function-configuration returned."""
    if given is not None:
        return given
    op = _final(history, "get-function-configuration")
    return None if op is None or not isinstance(op.output, dict) else op.output.get(name)


def _executions(history: History) -> tuple[Operation | None, list[dict]]:
    op = _final(history, "executions")
    return op, (list(op.output or []) if op is not None else [])


def _end(x: dict) -> float:
    """The last instant the records prove the execution was running: its end report, its commit, or its
    beginning."""
    return max(t for t in (x["begin"], x.get("commit"), x.get("end")) if t is not None)


def _describe(x: dict) -> str:
    until = f"committed at t={x['commit']:g}" if x.get("commit") is not None else "never committed"
    if x.get("end") is not None:
        until += f", ended ({x.get('outcome')}) at t={x['end']:g}"
    return f"execution {x['exec']} (event {x['event']}, sandbox {x['sandbox']}, began t={x['begin']:g}, {until})"


def check_concurrency_limit(history: History, *, limit: int | None = None) -> CheckResult:
    """At no instant were more executions running than the concurrency limit.

    An execution is counted at an instant only when its records prove it ran then: it began at or before the
    instant and committed or reported its end after it (or began at that very instant). The count is highest at some execution's
    beginning, so each beginning is judged. One that ended at the instant another began is not counted with it:
    the slot passed from one to the other in zero time, which a correct placement does."""
    checker = "concurrency-limit"
    limit = _setting(history, "concurrency_limit", limit)
    audit, execs = _executions(history)
    if audit is None or limit is None:
        return CheckResult.unexercised(checker, "The executions (or the concurrency limit) were never read after "
                                                "recovery.")
    worst: list[dict] = []
    for y in execs:
        t = y["begin"]
        running = [x for x in execs if x is y or x["begin"] == t or x["begin"] <= t < _end(x)]
        if len(running) > len(worst):
            worst = running
    if len(worst) > limit:
        t = max(x["begin"] for x in worst)
        worst = sorted(worst, key=lambda x: (x["begin"], x["exec"]))
        lets = "; ".join(_describe(x) for x in worst)
        return CheckResult.violation(
            checker, f"Let {lets}. Then all {len(worst)} were running at t={t:g} (each began by then and committed or "
                     f"ended later, or began then), against a concurrency limit of {limit}: a contradiction!",
            limit=limit, at=t, running=len(worst), executions=[x["exec"] for x in worst],
            events=[x["event"] for x in worst], ops=[audit.call_index])
    if not execs:
        return CheckResult.unexercised(checker, "No execution began.")
    return CheckResult.holds(checker, f"{len(execs)} executions, at most {len(worst)} running at once (limit "
                                      f"{limit}).", peak=len(worst), limit=limit)


def check_events_accounted(history: History) -> CheckResult:
    """Every accepted asynchronous event was processed (an execution of it committed) or sent to the on-failure
    destination, once the system healed and settled: none is dropped silently."""
    checker = "events-accounted"
    audit, execs = _executions(history)
    failures_op = _final(history, "failures")
    if audit is None or failures_op is None:
        return CheckResult.unexercised(checker, "The executions or the on-failure destination were never read "
                                                "after recovery.")
    processed = {x["event"] for x in execs if x.get("commit") is not None}
    failed = {f["event"] for f in failures_op.output or []}
    accepted = [op for op in history.operations() if op.f == "invoke" and op.phase == "main" and op.is_ok]
    for op in accepted:
        event = op.input[0]
        if event not in processed and event not in failed:
            began = [x for x in execs if x["event"] == event]
            return CheckResult.violation(
                checker, f"Let I = {op.describe()}, an acknowledged asynchronous invocation of event {event}. After "
                         f"healing and settling, {len(began)} executions of it had begun and none committed, and the "
                         f"on-failure destination ({len(failed)} entries) does not hold it: the event was dropped "
                         f"silently: a contradiction!",
                event=event, executions=[x["exec"] for x in began],
                ops=[op.call_index, audit.call_index, failures_op.call_index])
    if not accepted:
        return CheckResult.unexercised(checker, "No asynchronous invocation was acknowledged.")
    n_failed = sum(op.input[0] in failed for op in accepted)
    return CheckResult.holds(checker, f"{len(accepted)} accepted events: {len(accepted) - n_failed} processed, "
                                      f"{n_failed} in the on-failure destination.",
                             accepted=len(accepted), failed=n_failed)


def check_no_processing_after_failure(history: History) -> CheckResult:
    """No execution of an event began or committed after the event was sent to the on-failure destination: once
    there, it is the destination's, and a late success would be processed twice (once by whoever drains it)."""
    checker = "no-processing-after-failure"
    audit, execs = _executions(history)
    failures_op = _final(history, "failures")
    if audit is None or failures_op is None:
        return CheckResult.unexercised(checker, "The executions or the on-failure destination were never read "
                                                "after recovery.")
    entries = list(failures_op.output or [])
    for f in entries:
        for x in execs:
            if x["event"] != f["event"]:
                continue
            late = x["begin"] > f["at"] + EPSILON or (x.get("commit") is not None and x["commit"] > f["at"] + EPSILON)
            if late:
                what = "began" if x["begin"] > f["at"] + EPSILON else "committed its side effect"
                return CheckResult.violation(
                    checker, f"Let F = the on-failure destination's entry for event {f['event']} (sent at "
                             f"t={f['at']:g}, reason {f['reason']!r}) and X = {_describe(x)}. Then X {what} after "
                             f"the event was sent to the failure destination: a contradiction!",
                    event=f["event"], exec=x["exec"], sent_at=f["at"], begin=x["begin"], commit=x.get("commit"),
                    ops=[audit.call_index, failures_op.call_index])
    if not entries:
        return CheckResult.unexercised(checker, "No event was sent to the on-failure destination.")
    return CheckResult.holds(checker, f"{len(entries)} events in the on-failure destination, none run after.")


def check_timeout_enforced(history: History, *, timeout: float | None = None) -> CheckResult:
    """No execution was observed running past the function's timeout: every commit and end report came within
    ``timeout`` of its execution's beginning."""
    checker = "timeout-enforced"
    timeout = _setting(history, "timeout", timeout)
    audit, execs = _executions(history)
    if audit is None or timeout is None:
        return CheckResult.unexercised(checker, "The executions (or the timeout) were never read after recovery.")
    committed = [x for x in execs if x.get("commit") is not None or x.get("end") is not None]
    for x in committed:
        ran = _end(x) - x["begin"]
        if ran > timeout + EPSILON:
            return CheckResult.violation(
                checker, f"Let X = {_describe(x)}. Then X was still running {ran:g} s after it began, past the "
                         f"function's timeout of {timeout:g} s: a contradiction!",
                exec=x["exec"], event=x["event"], ran=round(ran, 6), timeout=timeout, ops=[audit.call_index])
    if not committed:
        return CheckResult.unexercised(checker, "No execution committed or reported its end, so none was seen "
                                                "running.")
    return CheckResult.holds(checker, f"{len(committed)} executions seen to their end, each within {timeout:g} s.",
                             longest=round(max(_end(x) - x["begin"] for x in committed), 6))


def check_stateless_tallies(history: History) -> CheckResult:
    """A function counting events per key (a ``tally``) gives every distinct event of a key a distinct count.

    The count is the function's result, recorded with its side effect (``ticket``). Kept in an external store it
    is one counter; kept in a sandbox's memory it is one counter per sandbox, reset whenever a sandbox is new (a
    cold start, a reaped or crashed sandbox), so two events get the same count: the "stateless" execution model is
    what this breaks."""
    checker = "stateless-tallies"
    audit, execs = _executions(history)
    if audit is None:
        return CheckResult.unexercised(checker, "The executions were never read after recovery.")
    by_key: dict[Any, dict[int, dict]] = {}
    for x in execs:
        if x.get("kind") != "tally" or x.get("commit") is None or x.get("ticket") is None:
            continue
        tickets = by_key.setdefault(x["key"], {})
        other = tickets.get(x["ticket"])
        if other is not None and other["event"] != x["event"]:
            return CheckResult.violation(
                checker, f"Let A = {_describe(other)} and B = {_describe(x)}, tallies of key {x['key']!r} for two "
                         f"different events. Then both counted {x['ticket']}: a count kept in the function's "
                         f"sandbox started again on {x['sandbox'] if x['sandbox'] != other['sandbox'] else 'it'}: "
                         f"a contradiction!",
                key=x["key"], ticket=x["ticket"], events=[other["event"], x["event"]],
                sandboxes=[other["sandbox"], x["sandbox"]], ops=[audit.call_index])
        tickets.setdefault(x["ticket"], x)
    judged = {k: len({x["event"] for x in t.values()}) for k, t in by_key.items()}
    if not any(n >= 2 for n in judged.values()):
        return CheckResult.unexercised(checker, "No key was tallied by two different events.")
    return CheckResult.holds(checker, f"tallies of {len(judged)} keys, every event with its own count.",
                             events_per_key=dict(sorted(judged.items())))


def check_slots_released(history: History) -> CheckResult:
    """After healing and settling, with nothing left to run, the placement holds no concurrency slot: a slot that
    is never given back (its worker crashed mid-execution) throttles the function for good once all leak."""
    checker = "slots-released"
    slots = _final(history, "slots")
    audit, execs = _executions(history)
    if slots is None or audit is None:
        return CheckResult.unexercised(checker, "The slots or the executions were never read after recovery.")
    held = list((slots.output or {}).get("held", []))
    if held:
        return CheckResult.violation(
            checker, f"Let S = {slots.describe()}, read after healing and settling, when nothing was left to run. "
                     f"Then the placement still counts {len(held)} slot(s) as taken ({', '.join(map(str, held))}): "
                     f"they were never released, and the function is throttled that much for good: a "
                     f"contradiction!",
            held=held, ops=[slots.call_index])
    if not execs:
        return CheckResult.unexercised(checker, "No execution began, so no slot was taken.")
    return CheckResult.holds(checker, f"every slot of {len(execs)} executions was given back.")


def check_failure_after_retries(history: History, *, max_retries: int | None = None,
                                max_event_age: float | None = None) -> CheckResult:
    """An event reaches the on-failure destination only after its function failed ``1 + max_retries`` times (so
    that many executions began) or after it reached the maximum event age: throttling, and a system error before
    the function ran, are retried with backoff, not counted as failures of the function."""
    checker = "failure-after-retries"
    max_retries = _setting(history, "maximum_retry_attempts", max_retries)
    max_event_age = _setting(history, "maximum_event_age", max_event_age)
    audit, execs = _executions(history)
    failures_op = _final(history, "failures")
    if audit is None or failures_op is None or max_retries is None or max_event_age is None:
        return CheckResult.unexercised(checker, "The executions, the on-failure destination or the function's "
                                                "retry settings were never read after recovery.")
    invoked = {op.input[0]: op for op in history.operations() if op.f == "invoke" and op.phase == "main"}
    entries = list(failures_op.output or [])
    for f in entries:
        began = [x for x in execs if x["event"] == f["event"]]
        op = invoked.get(f["event"])
        age = f["at"] - op.call if op is not None else None
        if len(began) < 1 + max_retries and age is not None and age < max_event_age - EPSILON:
            return CheckResult.violation(
                checker, f"Let I = {op.describe()} and F = its entry in the on-failure destination (sent at "
                         f"t={f['at']:g}, reason {f['reason']!r}). Then F came {age:g} s after the invocation, "
                         f"younger than the maximum event age of {max_event_age:g} s, when only {len(began)} "
                         f"execution(s) of it had begun, fewer than the {1 + max_retries} attempts a failure needs: "
                         f"the event was given up while it never failed that often: a contradiction!",
                event=f["event"], began=len(began), age=round(age, 6), reason=f["reason"],
                ops=[op.call_index, failures_op.call_index])
    if not entries:
        return CheckResult.unexercised(checker, "No event was sent to the on-failure destination.")
    return CheckResult.holds(checker, f"{len(entries)} events in the on-failure destination, each after "
                                      f"{1 + max_retries} failed executions or its maximum age.")


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "concurrency-limit": check_concurrency_limit,
    "events-accounted": check_events_accounted,
    "no-processing-after-failure": check_no_processing_after_failure,
    "timeout-enforced": check_timeout_enforced,
    "stateless-tallies": check_stateless_tallies,
    "slots-released": check_slots_released,
    "failure-after-retries": check_failure_after_retries,
}
