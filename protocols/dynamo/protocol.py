"""dynamo as the engine runs it: the client's requests, the workload, the final reads, the invariants every run must
keep, the "sometimes" witnesses, and the variants (good and known-bad). The claims, some of which run this protocol
for their figures (:mod:`protocols.dynamo.measurements`), are added to it in :mod:`protocols.dynamo`.

The history is Jepsen's "independent" style: a write's value and a read's ok value are ``[key, value]``, and a
vector-clock read that found siblings returns ``[key, [v1, v2, ...]]``; :mod:`protocols.dynamo.siblings` says which
sibling such a read stands for when the register checkers judge it.
"""

from __future__ import annotations

from faultlab import Invariant, Protocol, Variant, Witness
from invariants.durability import check_no_lost_writes
from invariants.session import check_read_after_write
from protocols.dynamo.config import DynamoConfig
from protocols.dynamo.node import ClientGet, ClientPut, DynamoNode
from protocols.dynamo.siblings import check_sibling_convergence, resolve_siblings

KEYS = ("a", "b", "c")  # the workload's keys: few, so that concurrent writes to one key are common


# -- client requests and workload ------------------------------------------------------------------------------------
def request(f: str, value: list) -> ClientPut | ClientGet:
    key, v = value
    return ClientPut(key, v) if f == "write" else ClientGet(key)


def workload(choices, op_index: int) -> tuple[str, object]:
    """Writes of unique values (op_index + 1) and reads of a few keys; choice 0 is a write to the first key."""
    key = KEYS[choices.choose(len(KEYS))]
    return ("write", [key, op_index + 1]) if choices.choose(2) == 0 else ("read", [key, None])


def final_reads(config: DynamoConfig) -> list[tuple[str, object, str]]:
    """After recovery: every key read through two coordinators (the first and last node), so that convergence
    compares two merges of replica answers; more would only slow every run and every shrink step down."""
    ids = config.node_ids()
    return [("read", [key, None], node) for key in KEYS for node in dict.fromkeys((ids[0], ids[-1]))]


# -- invariants ------------------------------------------------------------------------------------------------------
def _read_after_write(history):
    return check_read_after_write(resolve_siblings(history), keyed=True)


def _no_lost_writes(history):
    return check_no_lost_writes(resolve_siblings(history), keyed=True)


# -- the protocol ----------------------------------------------------------------------------------------------------
PROTOCOL = Protocol(
    name="dynamo",
    summary="Dynamo: consistent-hash ring with virtual nodes, sloppy quorum with hinted handoff, vector clocks or LWW",
    config_class=DynamoConfig,
    nodes=lambda cfg: {n: DynamoNode for n in cfg.node_ids()},
    request=request,
    workload=workload,
    final_ops=final_reads,
    invariants=(
        Invariant("read-after-write", _read_after_write,
                  "a read that starts after a write to its key was acknowledged returns it or newer (a sibling set "
                  "satisfies it when one sibling is the write or newer)"),
        Invariant("no-lost-writes", _no_lost_writes,
                  "after healing, recovery and handoff every acknowledged write is still read, as a value or a "
                  "sibling, or was superseded"),
        Invariant("convergence", check_sibling_convergence,
                  "after healing and recovery every node's final read of a key returns the same sibling set"),
    ),
    witnesses=(
        Witness.acknowledged("write"),
        Witness.acknowledged("read", "read returned"),
        Witness("hinted write stored", lambda run: not run.config.sloppy or run.note_count("hinted_write") > 0,
                "sloppy only: a stand-in stored a write for an unreachable preferred replica"),
        Witness("hint handed off", lambda run: not run.config.sloppy or run.note_count("handoff") > 0,
                "sloppy only: a stand-in delivered a hint back to its intended replica"),
        # a Merkle comparison found a differing leaf and the exchange changed a replica
        Witness.noted("anti_entropy_repair", "anti-entropy repaired a replica"),
        Witness("node joined", lambda run: not run.config.churn or run.note_count("member_joined") > 0,
                "churn only: a spare joined the ring through a seed member"),
        Witness("node left", lambda run: not run.config.churn or run.note_count("member_left") > 0,
                "churn only: a member handed its keys off and left the ring"),
        Witness("keys transferred", lambda run: not run.config.churn or run.note_count("key_transfer") > 0,
                "churn only: a ring change moved keys to their new owners"),
        Witness("siblings created", lambda run: run.config.conflict != "vclock" or run.note_count("siblings") > 0,
                "vclock only: concurrent writes were kept side by side on a replica"),
    ),
    variants=(
        Variant("strict-vclock", {"sloppy": False, "conflict": "vclock"},
                "strict quorum N=3, R=2, W=2 over the top-3 of 5 nodes, vector clocks"),
        Variant("sloppy-vclock", {"sloppy": True, "conflict": "vclock"},
                "sloppy quorum N=3, R=2, W=2 with hinted handoff: stand-ins on one side of a partition acknowledge "
                "a write a read quorum on the other side misses", expect_violation="read-after-write",
                faults=("partition",)),
        Variant("lww-skew", {"sloppy": False, "conflict": "lww"},
                "last-writer-wins on coordinator clocks: a later write stamped by a clock that runs behind is "
                "silently dropped", expect_violation="no-lost-writes", faults=("skew", "delay")),
        Variant("strict-vclock-churn", {"sloppy": False, "conflict": "vclock", "churn": True},
                "strict quorum N=3, R=2, W=2, vector clocks, while a spare joins 5 members and one member leaves: "
                "no acknowledged write is lost and replicas converge (read-after-write is not promised: see "
                "strict-vclock-churn-stale-read)", invariants=("no-lost-writes", "convergence")),
        Variant("strict-vclock-churn-stale-read", {"sloppy": False, "conflict": "vclock", "churn": True,
                                                   "spares": 2},
                "strict quorums taken on two different rings do not intersect: while views disagree after a "
                "join, a write acknowledged by the old owners is missed by a read of the new ones (the joiner "
                "answers before its keys reach it)", expect_violation="read-after-write",
                faults=("partition", "delay")),
    ),
)
