"""Claims: sentences from the design document, each judged by faultlab with a verdict the code computed.

A protocol module declares its claims next to its code (``Protocol.claims``). Each quotes the document exactly, with
its section, and says how it is checked:

* ``invariant``: explore a named variant (its configuration and fault set) against named invariants. Verdict
  ``held`` (with the number of runs and which faults occurred) or ``refuted`` (with the shrunk trace and the replay
  command). A claim the document gets wrong is a result: it is reported refuted, never weakened until it passes.
* ``z3``: proofs about the variant's configuration (``prove(config) -> [ProofResult]``). Verdict ``proved`` or
  ``refuted`` with the counterexample.
* ``measure``: a computation or a set of simulation runs that produces a figure with its unit
  (``measure(seed) -> Measurement``). Verdict ``measured`` with the figure and a table.

``faultlab claims`` judges them and prints the table; ``faultlab verify`` includes them in its reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs

Method = Literal["invariant", "z3", "measure"]


@attrs.frozen
class Measurement:
    """A measured figure: ``figure`` in ``unit``, a one-line ``summary``, and the ``table`` of raw rows behind it."""

    figure: float
    unit: str
    summary: str
    table: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen
class Claim:
    section: str
    text: str                      # quoted exactly from the design document
    method: Method
    variant: str | None = None     # the configuration the claim is about (a Protocol variant name)
    invariants: Sequence[str] = ()
    prove: Callable[[Any], list[Any]] | None = None
    measure: Callable[[int], Measurement] | None = None
    note: str = ""                 # how the sentence was turned into something checkable

    def __attrs_post_init__(self) -> None:
        if self.method == "invariant" and (not self.variant or not self.invariants):
            raise ValueError(f"claim {self.text!r}: an invariant claim needs a variant and invariants")
        if self.method == "z3" and self.prove is None:
            raise ValueError(f"claim {self.text!r}: a z3 claim needs prove=")
        if self.method == "measure" and self.measure is None:
            raise ValueError(f"claim {self.text!r}: a measured claim needs measure=")
