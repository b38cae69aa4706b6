"""Checkers for DNS failover by health checks (Route 53, seed section 9), over a client history.

The history's operations (protocols/route53.py records them this way):

* ``call``: a client resolves the name through its resolver and calls the endpoint the answer names. Its ``ok`` value
  is ``{"answer": endpoint, "served_by": endpoint or None, "cached": bool, "mode": "failover" | "weighted",
  "views": {endpoint: {checker: healthy or None}}}``: ``changes`` (optional) ``{endpoint: {checker: n}}`` how often each checker's verdict changed; ``views`` are the
  health checkers' verdicts the authoritative
  server held when it gave the answer (None: it had no report from that checker), carried along with a cached answer;
  ``served_by`` is None when the endpoint did not answer. ``fail``: the resolver did not answer;
* ``outage`` / ``restore`` (final phase): the primary endpoint is taken down / brought back by the operator. Their
  ``ok`` value is ``{"endpoint": name, "down": bool, "window": seconds}``, ``window`` being the failover time the
  configuration promises (``interval * failure_threshold + TTL + slack``).

Pure functions: no trio, no engine state. Each returns a :class:`faultlab.result.CheckResult`.
"""

from __future__ import annotations

from collections.abc import Callable

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_answers_follow_health_majority", "check_failover_after_outage",
           "check_no_failover_while_primary_up", "unhealthy_by_majority"]

PRIMARY, SECONDARY = "primary", "secondary"


def unhealthy_by_majority(views: dict) -> bool:
    """True when more than half of the checkers report the endpoint unhealthy (a checker with no report counts as
    healthy: an endpoint is healthy until checks prove otherwise)."""
    return sum(v is False for v in views.values()) * 2 > len(views) > 0


def _calls(history: History, phase: str | None = None) -> list[Operation]:
    return [op for op in history.operations() if op.f == "call" and op.is_ok and isinstance(op.output, dict)
            and (phase is None or op.phase == phase)]


def check_answers_follow_health_majority(history: History) -> CheckResult:
    """Every DNS answer is the one the checkers' majority implies: in failover mode the secondary exactly when a
    majority of checkers report the primary unhealthy (and not the secondary too), else the primary; in weighted mode
    never an endpoint a majority reports unhealthy while another is not. So no failover while the primary is healthy
    to a majority of checkers, and never an answer every checker has seen down (the answer carries the reports)."""
    name = "dns-answers-follow-health-majority"
    calls = [op for op in _calls(history) if isinstance(op.output.get("views"), dict)]
    if not calls:
        return CheckResult.unexercised(name, "no call was answered with the checkers' reports")
    for op in calls:
        out = op.output
        views = out["views"]
        down = sorted(e for e, v in views.items() if unhealthy_by_majority(v))
        answer = out["answer"]
        if out.get("mode", "failover") == "weighted":
            allowed = sorted(e for e in views if e not in down) or sorted(views)
        else:
            allowed = [SECONDARY] if PRIMARY in down and SECONDARY not in down else [PRIMARY]
        if answer not in allowed:
            seen = {e: f"{sum(v is False for v in views.get(e, {}).values())} of {len(views.get(e, {}))}"
                    for e in sorted(views)}
            what = ("failed over while a majority of checkers saw the primary healthy" if answer == SECONDARY
                    else "answered with an endpoint a majority of checkers saw down")
            return CheckResult.violation(
                name,
                f"Let the call at {op.call:g} (op {op.call_index}) be answered {answer!r}; the checkers' reports the "
                f"answer came with count endpoints unhealthy at {seen}, so the answer should be one of {allowed}. "
                f"Then DNS {what}: a contradiction!",
                op=op.call_index, answer=answer, expected=allowed, unhealthy=down, views=views)
    return CheckResult.holds(name, f"{len(calls)} answers each followed the checkers' majority", answers=len(calls))


def check_failover_after_outage(history: History) -> CheckResult:
    """Final phase: once the primary has been down (an ``outage``) for longer than the promised window, calls are
    served by the secondary; once it has been back (a ``restore``, or from the start of the phase) for that long,
    by the primary again (failback). Calls inside a window are not judged."""
    name = "dns-failover-after-outage"
    final = sorted((op for op in history.operations() if op.phase == "final"), key=lambda o: o.call)
    # from the start of the phase the primary is expected (a window of 0: nodes settled before the phase began)
    state, since, window, judged = PRIMARY, (final[0].call if final else 0.0), 0.0, 0
    outages = 0
    for op in final:
        if op.f in ("outage", "restore") and op.is_ok and isinstance(op.output, dict):
            state = SECONDARY if op.output.get("down") else PRIMARY
            since, window = op.ret, float(op.output.get("window", 0.0))
            outages += op.output.get("down", False)
            continue
        if op.f != "call" or op.call < since + window:
            continue
        judged += 1
        served = op.output.get("served_by") if op.is_ok and isinstance(op.output, dict) else None
        if served != state:
            event = "down" if state == SECONDARY else "back up"
            return CheckResult.violation(
                name,
                f"Let the primary be {event} since {since:g}; the call at {op.call:g} (op {op.call_index}), "
                f"{op.call - since:g} s later (the window is {window:g} s), was served by {served!r}, "
                f"answered {op.output.get('answer') if isinstance(op.output, dict) else None!r}"
                f"{' from the cache' if isinstance(op.output, dict) and op.output.get('cached') else ''}. Then "
                f"clients did not reach the {state} within the window: a contradiction!",
                op=op.call_index, expected=state, served_by=served, since=since, window=window,
                answer=op.output.get("answer") if isinstance(op.output, dict) else None)
    if not outages or not judged:
        return CheckResult.unexercised(name, "no final call after an outage's window", judged=judged)
    return CheckResult.holds(name, f"{judged} final calls reached the endpoint the outages implied", judged=judged)


def check_no_failover_while_primary_up(history: History) -> CheckResult:
    """Before any ``outage`` operation every answer names the primary and no checker has changed its verdict on the
    primary (an answer's ``changes``): for runs whose faults cannot take the primary down (a few lost or held
    messages), where any failover, or any checker marking the primary unhealthy, is a needless one: flapping."""
    name = "dns-no-failover-while-primary-up"
    outage_at = min((op.call for op in history.operations() if op.f == "outage"), default=float("inf"))
    calls = [op for op in _calls(history) if op.call < outage_at]
    if not calls:
        return CheckResult.unexercised(name, "no call answered before an outage")
    for op in calls:
        answer = op.output.get("answer")
        flapped = {c: n for c, n in sorted((op.output.get("changes") or {}).get(PRIMARY, {}).items()) if n}
        if answer != PRIMARY or flapped:
            what = (f"DNS failed over to {answer!r}" if answer != PRIMARY
                    else f"checkers {sorted(flapped)} changed their verdict on the primary {flapped} times")
            return CheckResult.violation(
                name,
                f"Let the primary never be taken down"
                f"{'' if outage_at == float('inf') else f' before {outage_at:g}'}; the call at {op.call:g} (op "
                f"{op.call_index}) was answered {answer!r}, and {what}. Then the health checks flapped while the "
                f"primary was up: a contradiction!",
                op=op.call_index, answer=answer, flapped=flapped, views=op.output.get("views"))
    return CheckResult.holds(name, f"{len(calls)} answers named the primary, no checker's verdict changed",
                             answers=len(calls))


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "dns-answers-follow-health-majority": check_answers_follow_health_majority,
    "dns-failover-after-outage": check_failover_after_outage,
    "dns-no-failover-while-primary-up": check_no_failover_while_primary_up,
}
