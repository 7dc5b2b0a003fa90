"""Job queue: the Queue protocol, job types and the errors handlers raise to steer retries."""

from whatsapp_ai.core.queue.types import (
    Handler,
    JobInfo,
    LeasedJob,
    PermanentJobError,
    Queue,
    QueueStats,
    RetryLater,
    RetryPolicy,
    Snooze,
)

__all__ = [
    "Handler",
    "JobInfo",
    "LeasedJob",
    "PermanentJobError",
    "Queue",
    "QueueStats",
    "RetryLater",
    "RetryPolicy",
    "Snooze",
]
