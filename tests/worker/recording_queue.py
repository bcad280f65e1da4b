"""A TaskQueue that keeps what handlers schedule, to look at instead of running it."""

from __future__ import annotations

from jyntrix_domain.tasks import TaskMessage


class RecordingQueue:
    """Records each enqueued task with its delay, in order, in `sent`."""

    def __init__(self) -> None:
        self.sent: list[tuple[TaskMessage, float]] = []

    async def enqueue(self, task: TaskMessage, delay_s: float = 0.0) -> None:
        self.sent.append((task, delay_s))
