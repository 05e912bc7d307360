"""Runs the peer benchmark's workloads on proxystream's Python client (python/), for bench/python-client/main.ts.

The shapes are those of bench/peers/proxystore/driver.py, so the two drivers compare Python against Python on one
Redis: Redis Streams carry the events, a RedisStore holds payloads at or above the inline threshold (256 KiB by
default, as in TypeScript), every payload is checksum-verified when resolved, and every item is acked, which
releases its payload. Usage: driver.py '<json config>'; prints one JSON object on stdout.

Modes:
  raw      one producer process -> one consumer process that resolves and acks every item; items/s.
  scaling  a generator -> a dispatcher process reading the stream, which submits each item's ref (or its inline
           value) to a ProcessPoolExecutor of W workers; each worker resolves from the store; the dispatcher acks
           when the worker is done. Closed loop: at most `window` items in flight, after a warm-up of 2W items.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import redis
from proxystream import PayloadLifetime, RedisStore, RedisStreamsBroker, StreamConsumer, StreamProducer
from proxystream.proxy import Ref, StoreRegistry
from proxystream.wire.envelope import RefPayload

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'lib'))
from closed_loop import TaskCounts, percentile  # noqa: E402  (bench/lib, shared with the other driver)

_worker_stores: StoreRegistry | None = None


def _url(cfg: dict[str, Any]) -> str:
    return f"redis://{cfg['host']}:{cfg['port']}"


def _store(cfg: dict[str, Any]) -> RedisStore:
    return RedisStore(url=_url(cfg), key_prefix=f"pyc-{cfg['id']}")


def _payloads_left_then_clean(cfg: dict[str, Any], topic: str) -> int:
    """The run's payloads still in the store; then deletes what the run left in Redis (its stream, end-of-stream
    hash and dead-letter stream, and any payload), as the TypeScript benches' cleanupRun does: events stay in a
    stream after their ack, and a Redis that keeps every run's gigabytes slows the runs after it."""
    left = _store(cfg).stats().objects
    client = redis.Redis.from_url(_url(cfg))
    doomed = [topic, f"{topic}:ps-eos", f"{topic}.dlq", *client.scan_iter(match=f"pyc-{cfg['id']}:*", count=1000)]
    client.unlink(*doomed)
    client.close()
    return left


def _producer(cfg: dict[str, Any], broker: RedisStreamsBroker, group: str) -> StreamProducer:
    return StreamProducer(broker.publisher(), _store(cfg), inline_threshold=cfg['inlineThreshold'], lifetime=PayloadLifetime(readers=[group], ttl_ms=600_000))


# ---------------------------------------------------------------------------------------- raw


def _raw_consumer(cfg: dict[str, Any], topic: str, ready: Any, out: Any) -> None:
    broker = RedisStreamsBroker(url=_url(cfg))
    latencies = []
    with StreamConsumer(broker.subscriber(topic, 'raw'), [_store(cfg)]) as consumer:
        ready.set()
        for item in consumer:
            len(item.resolve())
            item.ack()
            latencies.append((time.time() - item.metadata['t']) * 1000)
    out.put({'received': len(latencies), 'end': time.time(), 'latencies': latencies})


def run_raw(cfg: dict[str, Any]) -> dict[str, Any]:
    topic = f"pyc-raw-{cfg['id']}"
    size, items = cfg['size'], cfg['items']
    ready = mp.Event()
    out: Any = mp.Queue()
    consumer = mp.Process(target=_raw_consumer, args=(cfg, topic, ready, out))
    consumer.start()
    ready.wait(60)
    time.sleep(0.2)
    broker = RedisStreamsBroker(url=_url(cfg))
    payload = b'\x01' * size
    with _producer(cfg, broker, 'raw') as producer:
        start = time.time()
        for i in range(items):
            producer.send(topic, payload, metadata={'i': i, 't': time.time()})
        producer.end(topic)
    result = out.get(timeout=600)
    consumer.join()
    seconds = result['end'] - start
    lat = result['latencies']
    return {
        'payloadsLeft': _payloads_left_then_clean(cfg, topic),
        'items': result['received'],
        'seconds': seconds,
        'itemsPerSecond': result['received'] / seconds,
        'latencyP50Ms': percentile(lat, 50),
        'latencyP99Ms': percentile(lat, 99),
    }


# ------------------------------------------------------------------------------------ scaling


def _init_worker(cfg: dict[str, Any]) -> None:
    global _worker_stores
    _worker_stores = StoreRegistry([_store(cfg)])


def _task(payload: Any, i: int, t: float) -> tuple[int, float]:
    """Resolves one item in a pool worker: a ref from the store (checksum-verified), or the inline value."""
    value = Ref(payload, _worker_stores).resolve() if isinstance(payload, RefPayload) else payload
    len(value)
    return i, (time.time() - t) * 1000


def _dispatcher(cfg: dict[str, Any], topic: str, counts: TaskCounts, ready: Any, out: Any) -> None:
    broker = RedisStreamsBroker(url=_url(cfg))
    results: list[tuple[int, float]] = []
    cpu_start = None
    lock = threading.Lock()
    with ProcessPoolExecutor(max_workers=cfg['workers'], initializer=_init_worker, initargs=(cfg,)) as pool:
        # Start the worker processes before the first item, as a standing pool would be.
        list(pool.map(time.sleep, [0.05] * cfg['workers']))
        with StreamConsumer(broker.subscriber(topic, 'dispatch'), [_store(cfg)]) as consumer:
            ready.set()
            for item in consumer:
                if cpu_start is None and item.metadata['i'] >= 0:
                    cpu_start = time.process_time()
                payload = item.ref.payload if not item.ref.inline else item.resolve()
                future = pool.submit(_task, payload, item.metadata['i'], item.metadata['t'])

                def done(future: Any, item: Any = item) -> None:
                    if counts.failed(future):
                        return
                    with lock:
                        item.ack()
                        results.append(future.result())
                    counts.finish()

                future.add_done_callback(done)
    cpu = time.process_time() - (cpu_start or 0.0)
    out.put({'results': results, 'cpuSeconds': cpu})


def run_scaling(cfg: dict[str, Any]) -> dict[str, Any]:
    topic = f"pyc-scale-{cfg['id']}"
    size, items, workers, window = cfg['size'], cfg['items'], cfg['workers'], cfg['window']
    counts = TaskCounts()
    ready = mp.Event()
    out: Any = mp.Queue()
    dispatcher = mp.Process(target=_dispatcher, args=(cfg, topic, counts, ready, out))
    dispatcher.start()
    ready.wait(60)
    broker = RedisStreamsBroker(url=_url(cfg))
    payload = b'\x01' * size

    def wait_below(limit: int) -> None:
        counts.wait_for(limit, dispatcher)

    with _producer(cfg, broker, 'dispatch') as producer:
        warmup = 2 * workers
        for k in range(warmup):
            producer.send(topic, payload, metadata={'i': -1 - k, 't': time.time()})
        producer.flush(topic)
        wait_below(warmup)
        start = time.time()
        for i in range(items):
            wait_below(warmup + i + 1 - window)
            producer.send(topic, payload, metadata={'i': i, 't': time.time()})
            producer.flush(topic)
        wait_below(warmup + items)
        seconds = time.time() - start
        producer.end(topic)
    result = out.get(timeout=600)
    dispatcher.join()
    measured = [r for r in result['results'] if r[0] >= 0]
    lat = [r[1] for r in measured]
    return {
        'payloadsLeft': _payloads_left_then_clean(cfg, topic),
        'tasks': len(measured),
        'seconds': seconds,
        'tasksPerSecond': len(measured) / seconds,
        'latencyP50Ms': percentile(lat, 50),
        'latencyP99Ms': percentile(lat, 99),
        'dispatcherCpuSeconds': result['cpuSeconds'],
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    cfg.setdefault('inlineThreshold', 256 * 1024)
    runners = {'raw': run_raw, 'scaling': run_scaling}
    print(json.dumps(runners[cfg['mode']](cfg)))


if __name__ == '__main__':
    mp.set_start_method('fork')
    main()
