"""Client logic that protocols share, written once against :class:`faultlab.runtime.ClientAPI`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from faultlab.outcomes import Fail, Ok, Unknown


async def follow_leader(api: Any, msg: Any, *, write: bool, redirect: Callable[[Any], str | None],
                        attempt_timeout: float, who: str = "node") -> Ok | Fail | Unknown:
    """Ask the chosen node, follow a redirect to the leader (``redirect(reply)``: the node a reply points to, or
    None), and try the other nodes on a timeout, at most once around plus one.

    A write that timed out or came back unknown may still be applied, so if no later attempt succeeds it is
    indeterminate (``Unknown``), never failed; a read that no node served is ``Fail``. The leader must apply a
    retried write once (ignore a value it already has).
    """
    untried = [api.node] + [n for n in api.nodes if n != api.node]
    target = untried.pop(0)
    maybe_applied = False
    for _ in range(len(api.nodes) + 1):
        reply = None
        with trio.move_on_after(attempt_timeout):
            reply = await api.call(msg, target)
        if isinstance(reply, Ok):
            return reply
        if reply is None or isinstance(reply, Unknown):
            maybe_applied = True
        hint = redirect(reply)
        if hint and hint != target:
            if hint in untried:
                untried.remove(hint)
            target = hint
        elif untried:
            target = untried.pop(0)
        else:
            break
    if write and maybe_applied:
        return Unknown("no attempt succeeded, and one may have been applied")
    return Fail(f"no {who} served it")
