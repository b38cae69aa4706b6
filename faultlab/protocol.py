"""How a protocol describes itself to the engine: nodes, client, workload, invariants, witnesses, variants.

A protocol module builds one :class:`Protocol` (conventionally ``SPEC``) and registers it under the entry-point
group ``faultlab.protocols`` so that ``faultlab list`` and ``faultlab check NAME`` find it. The engine never imports
``protocols/``: it only sees these objects.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from faultlab.errors import ConfigError
from faultlab.history import History


@attrs.frozen
class Invariant:
    """A property that must hold on every run: ``check(history)`` or ``check(history, config)``, pure, returning a
    :class:`~faultlab.result.CheckResult` (a checker from ``invariants/`` can be given as it is)."""

    name: str
    check: Callable[..., Any]
    description: str = ""
    # False for a property no configuration promises, kept to judge a claim or a variant that names it (default
    # reads held to read-after-write): it is checked only when asked for by name.
    by_default: bool = True
    _takes_config: bool = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        try:
            params = [p for p in inspect.signature(self.check).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        object.__setattr__(self, "_takes_config", len(params) >= 2)

    def judge(self, history: History, config: Any) -> Any:
        return self.check(history, config) if self._takes_config else self.check(history)


@attrs.frozen
class Witness:
    """A "sometimes" property: over an exploration it must be true of at least one run, or the exploration proved
    nothing (nothing was acknowledged, no crash happened). ``seen(run) -> bool`` looks at a finished run."""

    name: str
    seen: Callable[[Any], bool]
    description: str = ""

    @classmethod
    def acknowledged(cls, f: str, name: str | None = None) -> Witness:
        """Some run had an operation ``f`` that ended ok ("write acknowledged", "read returned")."""
        return cls(name or f"{f} acknowledged", lambda run: run.ok_ops(f) > 0)

    @classmethod
    def noted(cls, what: str, name: str | None = None) -> Witness:
        """Some run recorded ``ctx.note(what)`` ("failover happened")."""
        return cls(name or f"{what} noted", lambda run: run.note_count(what) > 0)


@attrs.frozen
class Variant:
    """A named configuration: either a good one the protocol claims holds, or a known-bad one the suite must refute.

    ``expect_violation`` names the invariant the bad variant breaks; ``faults`` restricts the fault kinds explored
    (None = the protocol's default set); ``invariants`` names what a good configuration promises when it is not all
    of the protocol's invariants (a sloppy quorum promises no lost writes, not read-after-write).
    """

    name: str
    settings: Mapping[str, Any]
    description: str
    expect_violation: str | None = None
    faults: Sequence[str] | None = None
    invariants: Sequence[str] | None = None
    links: str | None = None  # the link model this configuration runs on (None: the protocol's)
    max_crashes: int | None = None  # at most this many crashes (and power losses) per run: "survives one failure"
    max_faults: int | None = None  # at most this many faults of any kind per run
    # The destroy budget (faultlab.faults.FaultPlan): whole zones, and further single nodes, whose disks a run may
    # destroy: "survives the loss of an AZ + 1" is 1 and 1
    max_destroyed_zones: int | None = None
    max_destroyed_nodes: int | None = None

    def promised(self, protocol: Protocol) -> tuple[str, ...]:
        """The invariants judged for this variant: the broken one for a bad variant, else what it promises."""
        if self.expect_violation:
            return (self.expect_violation,)
        if self.invariants is not None:
            return tuple(self.invariants)
        return protocol.default_invariants()


ClientFn = Callable[[Any, str, Any], Awaitable[Any]]
WorkloadFn = Callable[[Any, int], tuple[str, Any]]


@attrs.frozen(kw_only=True)
class Protocol:
    """Everything the engine needs to run and judge a protocol.

    * ``config_class``: an attrs class whose fields (with defaults and ``metadata={"help": ...}``) are the settings
      given as ``--set key=value``; it validates itself in ``__attrs_post_init__`` raising :class:`ConfigError`.
    * ``nodes(config) -> {node_id: factory}``; ``factory(ctx)`` returns an object with ``async def run()``.
    * ``zones(config) -> {node_id: zone}`` (optional): lets a partition cut a whole availability zone.
    * ``client_nodes(config) -> [node_id]`` (optional): the nodes clients may send operations to, e.g. not spares
      that have yet to join.
    * ``request(f, value) -> message``: the request a client sends for an operation; the node's handler replies
      with an :class:`~faultlab.outcomes.Ok`, ``Fail`` or ``Unknown``, which the engine records (ok / fail / info;
      no reply within ``client_timeout`` is info). ``route(f, value) -> node | None`` (optional) names the node that
      serves an operation; otherwise the client picks one of ``client_nodes``.
    * ``client(api, f, value) -> Outcome``: instead of ``request``, for a client with logic of its own (follow a
      redirect, try another replica): performs one operation through ``api`` (:class:`faultlab.runtime.ClientAPI`).
    * ``workload(choices, op_index) -> (f, value)``: the next operation for a client.
    * ``final_ops(config) -> [(f, value, node)]``: operations run after healing and recovery (final reads).
    * ``latency(config) -> Latency`` (optional): messages take time by where their ends are, with a jitter the
      search chooses (:mod:`faultlab.latency`); without it they take none.
    """

    name: str
    summary: str
    config_class: type
    nodes: Callable[[Any], dict[str, Callable[[Any], Any]]]
    workload: WorkloadFn
    invariants: Sequence[Invariant]
    request: Callable[[str, Any], Any] | None = None
    route: Callable[[str, Any], str | None] | None = None
    client: ClientFn | None = None
    witnesses: Sequence[Witness] = ()
    variants: Sequence[Variant] = ()
    final_ops: Callable[[Any], list[tuple[str, Any, str | None]]] = lambda config: []
    zones: Callable[[Any], dict[str, str]] | None = None
    client_nodes: Callable[[Any], Sequence[str]] | None = None  # nodes clients may call (default: every node)
    faults: Sequence[str] = ("drop", "duplicate", "delay", "partition", "crash", "restart", "skew", "lose_unsynced")
    quorum_system: Callable[[Any], Any] | None = None
    claims: Sequence[Any] = ()  # faultlab.claims.Claim, judged by `faultlab claims`
    settle_time: float = 10.0
    client_timeout: float = 5.0
    # How long messages take (faultlab.latency): config -> Latency; None: no time at all.
    latency: Callable[[Any], Any] | None = None
    # What the network may do to a message: "stream" (TCP-like: in order, never twice, loss is a connection reset)
    # or "datagram" (loss, duplication, reordering). See faultlab.network.
    links: str = "stream"

    # -- settings ------------------------------------------------------------------------------------------------
    def settings(self) -> list[attrs.Attribute]:
        return list(attrs.fields(self.config_class))

    def make_config(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """Build a validated configuration from defaults plus ``overrides`` (values may be strings from the CLI)."""
        overrides = dict(overrides or {})
        fields = {f.name: f for f in self.settings()}
        kwargs = {}
        for key, raw in overrides.items():
            field = fields.get(key)
            if field is None:
                raise ConfigError(f"{self.name} has no setting {key!r}; its settings are: "
                                  f"{', '.join(sorted(fields))} (see `faultlab list`)")
            kwargs[key] = _coerce(self.name, field, raw)
        try:
            return self.config_class(**kwargs)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{self.name}: {e}") from None

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise ConfigError(f"{self.name} has no variant {name!r}; its variants are: "
                          f"{', '.join(v.name for v in self.variants)}")

    def __attrs_post_init__(self) -> None:
        if (self.request is None) == (self.client is None):
            raise ConfigError(f"{self.name}: give request= (the message for an operation; nodes reply Ok/Fail/"
                              f"Unknown) or client= (a client function with logic of its own), not "
                              f"{'both' if self.request else 'neither'}")
        for where, links in [(self.name, self.links)] + [(f"{self.name} variant {v.name!r}", v.links)
                                                         for v in self.variants if v.links is not None]:
            if links not in ("stream", "datagram"):
                raise ConfigError(f"{where}: links={links!r}; choose 'stream' (TCP-like) or 'datagram' (UDP-like)")
        names = {i.name for i in self.invariants}
        for v in self.variants:
            for name in [v.expect_violation] if v.expect_violation else list(v.invariants or ()):
                if name not in names:
                    raise ConfigError(f"{self.name}: variant {v.name!r} names invariant {name!r}, which the protocol "
                                      f"does not have; its invariants are: {', '.join(sorted(names))}")

    def default_invariants(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.invariants if i.by_default)

    def judged(self, names: Sequence[str] | None) -> tuple[str, ...]:
        """The invariants a run judges: ``names`` (validated) or the protocol's default set."""
        if names is None:
            return self.default_invariants()
        for name in names:
            self.invariant(name)
        return tuple(names)

    def invariant(self, name: str) -> Invariant:
        for inv in self.invariants:
            if inv.name == name:
                return inv
        raise ConfigError(f"{self.name} has no invariant {name!r}; its invariants are: "
                          f"{', '.join(i.name for i in self.invariants)}")


def config_to_json(config: Any) -> dict[str, Any]:
    return attrs.asdict(config, recurse=True)


def _coerce(protocol: str, field: attrs.Attribute, raw: Any) -> Any:
    typ = field.type if not isinstance(field.type, str) else {"int": int, "float": float, "bool": bool,
                                                               "str": str}.get(field.type, str)
    if not isinstance(raw, str):
        return raw
    try:
        if typ is bool:
            low = raw.strip().lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            return int(raw)
        if typ is float:
            return float(raw)
    except ValueError:
        raise ConfigError(f"{protocol}: setting {field.name}={raw!r} is not a valid {typ.__name__}; "
                          f"e.g. --set {field.name}={field.default!r}".replace("'", "")) from None
    return raw
