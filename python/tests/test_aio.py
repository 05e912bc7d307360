"""The asyncio variants against a real Redis: the same events, lifetimes and typed errors as the blocking classes, and an event loop that never blocks."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator

import numpy as np
import pytest
import redis

from proxystream import (
    AsyncStreamConsumer,
    AsyncStreamProducer,
    ClosedError,
    CorruptPayloadError,
    ErrorCodes,
    PayloadLifetime,
    RedisStore,
    RedisStreamsBroker,
)

THRESHOLD = 64


@pytest.fixture
def broker(redis_url: str, stream_prefix: str) -> Iterator[RedisStreamsBroker]:
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=300) as made:
        yield made


def frame(index: int, width: int) -> np.ndarray:
    return np.arange(2 * width, dtype=np.float32).reshape(2, width) + index


def test_producer_and_consumer_run_concurrently_release_every_payload_and_never_block_the_loop(broker: RedisStreamsBroker, store: RedisStore) -> None:
    count = 40

    async def main() -> tuple[list[int], int, bool]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def produce() -> None:
            await asyncio.sleep(0.5)  # the consumer waits in XREADGROUP BLOCK meanwhile
            async with AsyncStreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=["aio"])) as producer:
                for index in range(count):
                    result = await producer.send("frames", frame(index, 40 if index % 4 else 2), metadata={"index": index})
                    assert result.inline == (index % 4 == 0)
                await producer.end("frames")

        async def consume() -> tuple[list[int], bool]:
            seen: list[int] = []
            async with AsyncStreamConsumer(broker.subscriber("frames", "aio"), [store]) as consumer:
                async for item in consumer:
                    index = int(item.metadata["index"])
                    np.testing.assert_array_equal(await item.resolve(), frame(index, 40 if index % 4 else 2))
                    seen.append(index)
                    await item.ack()
                return seen, consumer.ended

        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        (seen, ended), _ = await asyncio.gather(consume(), produce())
        elapsed = time.monotonic() - started
        stop.set()
        await ticking
        # The loop kept running while both sides waited on Redis: about one tick per 10 ms.
        return seen, ticks if elapsed > 0.5 else -1, ended

    seen, ticks, ended = asyncio.run(main())
    assert seen == list(range(count)) and ended
    assert ticks >= 30
    assert store.stats().objects == 0


def test_items_resolve_concurrently_and_a_corrupted_payload_is_a_typed_error(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    async def main() -> list[object]:
        async with AsyncStreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=["aio"])) as producer:
            sent = [await producer.send("t", frame(index, 40), metadata={"index": index}) for index in range(6)]
            await producer.end("t")
        chunk = f"{prefix}:{{{sent[3].id}}}:c:0"
        stored = bytearray(raw.get(chunk) or b"")
        stored[-1] ^= 0xFF
        raw.set(chunk, bytes(stored), keepttl=True)
        async with AsyncStreamConsumer(broker.subscriber("t", "aio"), [store]) as consumer:
            # The end comes once every entry before it is acked: take the six, resolve them together, ack.
            items = []
            async for item in consumer:
                items.append(item)
                if len(items) == 6:
                    break
            outcomes = await asyncio.gather(*(item.resolve() for item in items), return_exceptions=True)
            for item in items:
                await item.ack()
            assert consumer.stats.yielded == 6
        return outcomes

    outcomes = asyncio.run(main())
    for index, outcome in enumerate(outcomes):
        if index == 3:
            assert isinstance(outcome, CorruptPayloadError) and outcome.code == ErrorCodes.CORRUPT_PAYLOAD
        else:
            np.testing.assert_array_equal(outcome, frame(index, 40))
    assert store.stats().objects == 0


def test_close_ends_the_iteration_and_a_closed_producer_refuses_sends(broker: RedisStreamsBroker, store: RedisStore) -> None:
    async def main() -> tuple[list[int], float]:
        consumer = AsyncStreamConsumer(broker.subscriber("open", "aio"), [store])
        seen: list[int] = []

        async def read() -> None:
            async for item in consumer:
                seen.append(int(item.metadata["index"]))
                await item.ack()

        reading = asyncio.create_task(read())
        async with AsyncStreamProducer(broker.publisher()) as producer:
            await producer.send("open", b"x", metadata={"index": 0})
        await asyncio.sleep(0.4)
        started = time.monotonic()
        await consumer.close()
        await asyncio.wait_for(reading, 5)
        with pytest.raises(ClosedError):
            await producer.send("open", b"late")
        return seen, time.monotonic() - started

    seen, close_seconds = asyncio.run(main())
    assert seen == [0]
    assert close_seconds < 2  # the read in progress returns within block_ms (300 ms)
