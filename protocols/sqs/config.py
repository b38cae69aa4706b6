"""The SQS model's settings (``--set key=value``), validated.

Time-based settings are scaled down for search by 1/10: a visibility timeout of 3 s stands for SQS's default 30 s,
a deduplication window of 30 s for FIFO's 5 minutes, a long poll of up to 2 s for SQS's 20 s. Retention is not
modelled (messages live until deleted or dead-lettered).
"""

from __future__ import annotations

import attrs

from faultlab import ConfigError

SCALE = 10  # the time scale: a setting of s seconds stands for s * SCALE seconds in SQS


@attrs.frozen
class SqsConfig:
    fifo: bool = attrs.field(default=False, metadata={
        "help": "a FIFO queue (message groups, group lock, deduplication) instead of a standard one"})
    ack_after: int = attrs.field(default=2, metadata={
        "help": "standard queue: hosts (of 3) that stored a message before its send is acknowledged"})
    sync: bool = attrs.field(default=True, metadata={"help": "hosts fsync every change before answering"})
    visibility: bool = attrs.field(default=True, metadata={
        "help": "a received message is hidden for the visibility timeout (False: deleted on receive)"})
    visibility_timeout: float = attrs.field(default=3.0, metadata={
        "help": "seconds a received message stays invisible (SQS default 30 s, scaled 1/10)"})
    dlq: bool = attrs.field(default=True, metadata={"help": "a redrive policy moves messages to a dead-letter queue"})
    max_receive_count: int = attrs.field(default=3, metadata={"help": "maxReceiveCount of the redrive policy"})
    dedup_window: float = attrs.field(default=30.0, metadata={
        "help": "FIFO deduplication interval in seconds (SQS 5 minutes, scaled 1/10)"})
    dedup_after_delete: bool = attrs.field(default=True, metadata={
        "help": "FIFO: a deduplication id counts for the whole window, also after its message was deleted"})
    group_lock: bool = attrs.field(default=True, metadata={
        "help": "FIFO: a group's messages are not received while a batch of the group is in flight"})
    wait_time: float = attrs.field(default=0.0, metadata={
        "help": "long polling: seconds a receive waits for a message (0: short polling; SQS up to 20 s, scaled)"})
    batch_size: int = attrs.field(default=2, metadata={"help": "messages per receive (MaxNumberOfMessages)"})
    heartbeat: bool = attrs.field(default=True, metadata={
        "help": "consumers extend the visibility of what they hold every half visibility timeout while processing"})
    lease_check: bool = attrs.field(default=True, metadata={
        "help": "consumers process a message only while sure it is still invisible (request time + timeout)"})
    stall_time: float = attrs.field(default=5.0, metadata={
        "help": "seconds a stalled consumer takes to process a message (longer than the visibility timeout)"})
    retry_delay: float = attrs.field(default=2.0, metadata={
        "help": "seconds after which a producer retries a send (no ack seen, or an application-level retry)"})

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.ack_after <= 3:
            raise ConfigError(f"sqs: ack_after={self.ack_after}; choose 1 to 3 (hosts of the 3 that store a copy)")
        for name in ("visibility_timeout", "dedup_window", "stall_time", "retry_delay"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"sqs: {name}={getattr(self, name)}; give a positive number of seconds")
        if not 0 <= self.wait_time <= 2.0:
            raise ConfigError(f"sqs: wait_time={self.wait_time}; choose 0 (short polling) to 2 s (SQS's 20 s, "
                              f"scaled 1/{SCALE})")
        if not 1 <= self.max_receive_count <= 1000:
            raise ConfigError(f"sqs: max_receive_count={self.max_receive_count}; choose 1 to 1000")
        if not 1 <= self.batch_size <= 10:
            raise ConfigError(f"sqs: batch_size={self.batch_size}; choose 1 to 10 (SQS's MaxNumberOfMessages)")
        if self.retry_delay + 2.0 >= 60.0:
            raise ConfigError(f"sqs: retry_delay={self.retry_delay}; keep it under 58 s so a send's retry ends "
                              f"within the client timeout")
