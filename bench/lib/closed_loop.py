"""The closed loop that bench/peers/proxystore/driver.py and bench/python-client/driver.py share (the Python
side of closed-loop.ts): task counts the dispatcher process updates and the generator waits on, and the
percentiles of the results. Standard library only, so it runs in either driver's venv."""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import Future
from multiprocessing.process import BaseProcess
from typing import Any

#: A run still waiting for its tasks after this long failed.
RUN_SECONDS = 600


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float('nan')
    ordered = sorted(samples)
    rank = min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))
    return ordered[int(rank)]


class TaskCounts:
    """Finished and failed tasks of one run, shared with the dispatcher process it forks."""

    def __init__(self) -> None:
        self._finished: Any = mp.Value('i', 0)
        self._failed: Any = mp.Value('i', 0)
        self._deadline = time.monotonic() + RUN_SECONDS

    @property
    def finished(self) -> int:
        with self._finished.get_lock():
            return int(self._finished.value)

    def failed(self, future: Future[Any]) -> bool:
        """True, and counted, when the task of ``future`` raised (the dispatcher then leaves the item alone)."""
        if future.exception() is None:
            return False
        with self._failed.get_lock():
            self._failed.value += 1
        return True

    def finish(self) -> None:
        with self._finished.get_lock():
            self._finished.value += 1

    def wait_for(self, limit: int, dispatcher: BaseProcess) -> None:
        """Waits until ``limit`` tasks finished; kills the dispatcher and raises if a task failed, the dispatcher
        exited or the run passed ``RUN_SECONDS``."""
        while True:
            value = self.finished
            if value >= limit:
                return
            failed = self._failed.value
            if failed > 0 or not dispatcher.is_alive() or time.monotonic() > self._deadline:
                state = f'saw {failed} tasks fail' if failed > 0 else 'is stuck' if dispatcher.is_alive() else 'exited'
                dispatcher.kill()
                raise RuntimeError(f'{value} of {limit} items finished and the dispatcher {state}')
            time.sleep(0.001)
