"""A circuit breaker (section 13: "Stop retrying entirely when failure rate > threshold").

Closed, it lets calls through and keeps the outcomes of the last ``window`` of them; when at least ``window``
outcomes are known and the fraction of failures exceeds ``threshold`` it opens. Open, it refuses every call for
``open_for`` seconds, then half-opens: exactly one call (the probe) goes through; its success closes the breaker
(the window starts empty), its failure opens it again for another ``open_for``. ``half_open=False`` is the known-bad
breaker that never half-opens: once open it stays open, so availability never returns after the service recovers.

A plain state machine over the caller's clock: the caller asks :meth:`allow` before each call and reports the
outcome with :meth:`record`; both return the transition they made (for the caller's audit log), or None.
"""

from __future__ import annotations

from collections import deque


class CircuitBreaker:
    def __init__(self, *, window: int, threshold: float, open_for: float, half_open: bool = True):
        self.window = window
        self.threshold = threshold
        self.open_for = open_for
        self.half_open = half_open
        self.state = "closed"
        self.opened_at = 0.0
        self.probing = False  # a probe is in flight (half-open)
        self._outcomes: deque[bool] = deque(maxlen=window)

    def allow(self, now: float) -> tuple[str | None, str | None]:
        """``(kind, transition)``: kind is "call", "probe" or None (refused); transition is "half-open" when this
        request half-opened the breaker."""
        if self.state == "closed":
            return "call", None
        if self.state == "open":
            if not self.half_open or now - self.opened_at < self.open_for:
                return None, None
            self.state, self.probing = "half-open", True
            return "probe", "half-open"
        if self.probing:  # half-open with its one probe in flight: everyone else waits for its verdict
            return None, None
        self.probing = True
        return "probe", None

    def record(self, ok: bool, now: float, *, probe: bool) -> str | None:
        """Report a call's outcome; returns "open" or "close" when the breaker changed state."""
        if probe:
            if self.state != "half-open":
                return None
            self.probing = False
            if ok:
                self.state = "closed"
                self._outcomes.clear()
                return "close"
            self.state, self.opened_at = "open", now
            return "open"
        if self.state != "closed":
            return None  # a call sent before the breaker opened: its verdict is already in
        self._outcomes.append(ok)
        failures = sum(1 for o in self._outcomes if not o)
        if len(self._outcomes) >= self.window and failures / len(self._outcomes) > self.threshold:
            self.state, self.opened_at = "open", now
            return "open"
        return None
