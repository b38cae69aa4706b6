"""The Step Functions model's settings (``--set key=value``), validated."""

from __future__ import annotations

import attrs

from faultlab import ConfigError

MODES = ("standard", "express")


@attrs.frozen
class StepFunctionsConfig:
    mode: str = attrs.field(default="standard", metadata={
        "help": "standard: every state transition persisted before it acts, tasks carry the token minted at the "
                "transition; express: only the start and the end are persisted, a crash re-runs from the start"})
    persist_before_act: bool = attrs.field(default=True, metadata={
        "help": "standard: a state's entry (with its token) is synced before its task is sent (False: after the "
                "task returns)"})
    charge_token: bool = attrs.field(default=True, metadata={
        "help": "the charge task carries the idempotency token of its transition (False: none, a retry charges "
                "again)"})
    persist_compensation: bool = attrs.field(default=True, metadata={
        "help": "the catch's compensation path is persisted step by step (False: the failure is recorded as the "
                "end and compensations run from memory)"})
    compensate: bool = attrs.field(default=True, metadata={
        "help": "a Catch runs the compensations of what the saga did (False: the error is swallowed, the "
                "execution just fails)"})
    max_attempts: int = attrs.field(default=3, metadata={
        "help": "a task's Retry MaxAttempts + 1: attempts before the error goes to the Catch"})
    bounded_retries: bool = attrs.field(default=True, metadata={
        "help": "retries stop after max_attempts (False: retried forever, as with no MaxAttempts)"})
    interval: float = attrs.field(default=0.2, metadata={"help": "Retry IntervalSeconds (seconds before attempt 2)"})
    backoff_rate: float = attrs.field(default=2.0, metadata={"help": "Retry BackoffRate"})
    max_delay: float = attrs.field(default=2.0, metadata={"help": "Retry MaxDelaySeconds (the cap of a delay)"})
    task_timeout: float = attrs.field(default=1.0, metadata={
        "help": "TimeoutSeconds of a task attempt at the executor (no reply by then: States.Timeout, retried)"})

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"step-functions: mode={self.mode!r}; choose standard or express")
        if not 1 <= self.max_attempts <= 10:
            raise ConfigError(f"step-functions: max_attempts={self.max_attempts}; choose 1 to 10 (attempts per task, "
                              f"the first included)")
        for name in ("interval", "max_delay", "task_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"step-functions: {name}={getattr(self, name)}; give a positive number of seconds")
        if self.backoff_rate < 1.0:
            raise ConfigError(f"step-functions: backoff_rate={self.backoff_rate}; choose 1.0 or more (ASL's "
                              f"BackoffRate)")
        if self.max_delay < self.interval:
            raise ConfigError(f"step-functions: max_delay={self.max_delay} is below interval={self.interval}; "
                              f"raise max_delay")

    def delay(self, attempt: int) -> float:
        """The nominal delay before attempt ``attempt + 1``: interval x rate^(attempt - 1), capped."""
        return min(self.max_delay, self.interval * self.backoff_rate ** (attempt - 1))
