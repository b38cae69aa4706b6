"""The function's external store (its execution records and side effects) and the on-failure destination."""

from __future__ import annotations

from faultlab import Node, Ok, handler
from protocols.lambda_.config import LambdaConfig
from protocols.lambda_.messages import (
    Ack,
    Begin,
    Commit,
    Committed,
    End,
    ReadExecutions,
    ReadFailures,
    ToDestination,
)


# -- the function's external store and the on-failure destination ----------------------------------------------------
class Store(Node[LambdaConfig]):
    """The function's external state (a DynamoDB table): execution records and side effects, synced on every write.
    Durable: ``("x", exec_id)`` per execution, ``order``, and ``("tally", key)`` (the events counted)."""

    @handler
    def on_begin(self, msg: Begin) -> Ack:
        if ("x", msg.exec_id) not in self.storage:
            self.storage["order"] = self.storage.get("order", ()) + (msg.exec_id,)
            self.storage[("x", msg.exec_id)] = {"exec": msg.exec_id, "event": msg.event, "kind": msg.kind,
                                                "sandbox": msg.sandbox, "begin": msg.at, "commit": None,
                                                "end": None, "outcome": None, "key": None, "ticket": None}
            self.storage.sync()
        return Ack()

    @handler
    def on_end(self, msg: End) -> None:
        rec = self.storage.get(("x", msg.exec_id))
        if rec is not None and rec["end"] is None:
            self.storage[("x", msg.exec_id)] = {**rec, "end": msg.at, "outcome": msg.outcome}
            self.storage.sync()

    @handler
    def on_commit(self, msg: Commit) -> Committed | None:
        if ("x", msg.exec_id) not in self.storage:
            return None  # no execution began under this id: the write fails (the function sees an error)
        rec = dict(self.storage[("x", msg.exec_id)])
        ticket = msg.ticket
        if msg.tally:  # one counter per key in the store, idempotent per event
            counted = self.storage.get(("tally", msg.key), ())
            if rec["event"] not in counted:
                counted = counted + (rec["event"],)
                self.storage[("tally", msg.key)] = counted
            ticket = counted.index(rec["event"]) + 1
        if rec["commit"] is None:
            rec.update(commit=msg.at, key=msg.key, ticket=ticket)
            self.storage[("x", msg.exec_id)] = rec
        self.storage.sync()
        return Committed(ticket)

    @handler
    def on_read_executions(self, msg: ReadExecutions) -> Ok:
        return Ok([dict(self.storage[("x", x)]) for x in self.storage.get("order", ())])


class Destination(Node[LambdaConfig]):
    """The on-failure destination (an SQS queue): entries synced before they are acknowledged."""

    @handler
    def on_to_destination(self, msg: ToDestination) -> Ack:
        entries = self.storage.get("entries", ())
        if not any(e["event"] == msg.entry["event"] for e in entries):
            self.storage.save(entries=entries + (dict(msg.entry),))
        return Ack()

    @handler
    def on_read_failures(self, msg: ReadFailures) -> Ok:
        return Ok([dict(e) for e in self.storage.get("entries", ())])
