"""The acks of one Redis Streams consumer, sent by a thread of their own (as ``ack()`` in ``redis-streams-subscriber.ts`` returns once the XACK is written)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Callable, Iterable, Optional

import redis

from .held_entries import HeldEntries

AckDone = Optional[Callable[[bool], None]]
"""Hears whether Redis confirmed an ack (True) or the XACK failed (False: the entry comes again)."""


class AckBatcher:
    """XACKs issued by ``ack()`` and sent by a daemon thread: every ack made while the previous batch was on
    the wire goes out in the next pipeline, one XACK per stream with all its ids, so a consumer that acks
    item by item does not wait a round trip per item. An entry stays held (never claimed away) until its
    XACK was answered; then ``done`` hears the outcome, on the batcher's thread. :meth:`flush` sends what
    is pending on the caller's thread (before a close hands entries back)."""

    def __init__(self, commands: redis.Redis, group: str, held: HeldEntries, name: str, on_acked: Optional[Callable[[Iterable[str]], None]] = None) -> None:
        """``on_acked`` hears the streams of each batch Redis confirmed, after its ``done`` callbacks ran."""
        self._commands = commands
        self._on_acked = on_acked
        self._group = group
        self._held = held
        self._pending: list[tuple[str, str, AckDone]] = []
        self._in_flight = 0
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=f"proxystream-acks-{name}", daemon=True)
        self._thread.start()

    def ack(self, stream: str, entry_id: str, done: AckDone = None) -> None:
        with self._lock:
            self._pending.append((stream, entry_id, done))
        self._wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Sends every pending ack now and waits (up to ``timeout`` seconds) until Redis answered every ack
        made so far and their ``done`` callbacks ran. False when that took longer."""
        self._send(self._take())
        with self._settled:
            return self._settled.wait_for(lambda: self._in_flight == 0 and not self._pending, timeout)

    def stop(self) -> None:
        """Flushes (waiting up to 5 s), then ends the thread. Idempotent."""
        self._stopped = True
        self.flush()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait()
            self._wake.clear()
            self._send(self._take())

    def _take(self) -> list[tuple[str, str, AckDone]]:
        with self._lock:
            batch, self._pending = self._pending, []
            self._in_flight += len(batch)
        return batch

    def _send(self, batch: list[tuple[str, str, AckDone]]) -> None:
        if not batch:
            return
        by_stream: dict[str, list[str]] = defaultdict(list)
        for stream, entry_id, _ in batch:
            by_stream[stream].append(entry_id)
        try:
            pipeline = self._commands.pipeline(transaction=False)
            for stream, ids in by_stream.items():
                pipeline.xack(stream, self._group, *ids)
            pipeline.execute()
            confirmed = True
        except redis.exceptions.RedisError:
            confirmed = False
        for stream, entry_id, done in batch:
            self._held.release(stream, entry_id)
            if done is not None:
                try:
                    done(confirmed)
                except Exception:
                    pass
        with self._settled:
            self._in_flight -= len(batch)
            self._settled.notify_all()
        if confirmed and self._on_acked is not None:
            self._on_acked(by_stream.keys())
