"""Runs proxystream's benchmark workloads on ProxyStore's ProxyStream (the peer).

Written for this repository against ProxyStore's public stream API (proxystore 1.x):
StreamProducer / StreamConsumer from proxystore.stream, the Redis queue shims, a Store over a
RedisConnector. Usage: driver.py '<json config>'; prints one JSON object on stdout.

Modes:
  raw      one producer process -> one consumer process that resolves every item; items/s.
  store    one step on a big object through a Store over a RedisConnector (cache off), in a process
           of its own: `put` writes `size` bytes under a key it prints, `get` reads that key back and
           evicts it; seconds and the rise of the peak RSS above the RSS before the step.
  scaling  a generator -> a dispatcher process that submits each item (a proxy, or the object itself
           in direct mode) to a pool of W worker processes; each resolves, sleeps, returns. Closed
           loop: at most `window` items in flight, after a warm-up through the same loop of at least
           `warmup` items and `warmupSeconds`.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings('ignore', message='Streaming is an experimental feature')

import json
import multiprocessing as mp
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from proxystore.connectors.file import FileConnector
from proxystore.connectors.redis import RedisConnector, RedisKey
from proxystore.proxy import Proxy, extract
from proxystore.store import Store
from proxystore.stream import StreamConsumer, StreamProducer
from proxystore.stream.shims.redis import RedisQueuePublisher, RedisQueueSubscriber

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'lib'))
from closed_loop import TaskCounts, percentile  # noqa: E402  (bench/lib, shared with the other driver)


def _producer(cfg: dict[str, Any], topic: str) -> StreamProducer:
    """method 'direct' sends objects in the events; 'ref' puts them in Redis, 'ref-file' in files under cfg['dir']."""
    publisher = RedisQueuePublisher(cfg['host'], cfg['port'])
    if cfg['method'] == 'direct':
        return StreamProducer(publisher)
    connector = FileConnector(cfg['dir']) if cfg['method'] == 'ref-file' else RedisConnector(cfg['host'], cfg['port'])
    store = Store(f'peer-{topic}', connector)
    return StreamProducer(publisher, stores={topic: store})


def _resolve(item: Any) -> int:
    """Resolves a proxy (or takes a direct object) and touches its bytes; returns the size."""
    value = extract(item) if isinstance(item, Proxy) else item
    return len(value)


# ---------------------------------------------------------------------------------------- raw


def _raw_consumer(cfg: dict[str, Any], topic: str, warmed: Any, out: Any) -> None:
    consumer = StreamConsumer(RedisQueueSubscriber(cfg['host'], cfg['port'], topic))
    latencies = []
    count = 0
    for metadata, item in consumer.iter_with_metadata():
        _resolve(item)
        if metadata['i'] < 0:
            with warmed.get_lock():
                warmed.value += 1
            continue
        latencies.append((time.time() - metadata['t']) * 1000)
        count += 1
    out.put({'received': count, 'end': time.time(), 'latencies': latencies})
    consumer.close()


def run_raw(cfg: dict[str, Any]) -> dict[str, Any]:
    topic = f"peer-raw-{cfg['id']}"
    size, items = cfg['size'], cfg['items']
    warmed = mp.Value('i', 0)
    out: Any = mp.Queue()
    consumer = mp.Process(target=_raw_consumer, args=(cfg, topic, warmed, out))
    consumer.start()
    producer = _producer(cfg, topic)
    payload = b'\x01' * size
    time.sleep(0.2)
    # Warm-up (negative i, not measured), as proxystream's raw runs do: windows of items, each consumed
    # before the next is sent, for at least `warmupSeconds` (the clock bounds it).
    window = max(2, min(64, (32 * 1024 * 1024) // size))
    warm_until = time.time() + cfg.get('warmupSeconds', 0)
    warmup = 0
    while time.time() < warm_until:
        for k in range(window):
            producer.send(topic, payload, evict=True, metadata={'i': -1 - warmup - k, 't': time.time()})
        warmup += window
        drained_by = time.time() + 60
        while warmed.value < warmup:
            if time.time() > drained_by:
                raise RuntimeError(f'raw warm-up: {warmed.value}/{warmup} items consumed after 60 s')
            time.sleep(0.001)
    start = time.time()
    for i in range(items):
        producer.send(topic, payload, evict=True, metadata={'i': i, 't': time.time()})
    producer.close_topics(topic)
    result = out.get(timeout=600)
    consumer.join()
    producer.close()
    seconds = result['end'] - start
    lat = result['latencies']
    return {
        'items': result['received'],
        'warmupItems': warmup,
        'seconds': seconds,
        'itemsPerSecond': result['received'] / seconds,
        'latencyP50Ms': percentile(lat, 50),
        'latencyP99Ms': percentile(lat, 99),
    }


# ------------------------------------------------------------------------------------ scaling


def _task(item: Any, sleep_s: float, i: int, t: float) -> tuple[int, float, float]:
    start = time.time()
    _resolve(item)
    resolve_ms = (time.time() - start) * 1000
    time.sleep(sleep_s)
    return i, (time.time() - t) * 1000, resolve_ms


def _dispatcher(cfg: dict[str, Any], topic: str, counts: TaskCounts, ready: Any, out: Any) -> None:
    consumer = StreamConsumer(RedisQueueSubscriber(cfg['host'], cfg['port'], topic))
    results: list[tuple[int, float, float]] = []
    cpu_start = None
    with ProcessPoolExecutor(max_workers=cfg['workers']) as pool:
        # Start the worker processes before the first item, as a standing pool would be.
        list(pool.map(time.sleep, [0.05] * cfg['workers']))
        ready.set()

        def done(future: Any) -> None:
            if counts.failed(future):
                return
            results.append(future.result())
            counts.finish()

        for metadata, item in consumer.iter_with_metadata():
            if cpu_start is None and metadata['i'] >= 0:
                cpu_start = time.process_time()
            future = pool.submit(_task, item, cfg['sleepMs'] / 1000, metadata['i'], metadata['t'])
            future.add_done_callback(done)
    cpu = time.process_time() - (cpu_start or 0.0)
    out.put({'results': results, 'cpuSeconds': cpu})
    consumer.close()


def run_scaling(cfg: dict[str, Any]) -> dict[str, Any]:
    topic = f"peer-scale-{cfg['id']}"
    size, items, workers, window = cfg['size'], cfg['items'], cfg['workers'], cfg['window']
    counts = TaskCounts()
    ready = mp.Event()
    out: Any = mp.Queue()
    dispatcher = mp.Process(target=_dispatcher, args=(cfg, topic, counts, ready, out))
    dispatcher.start()
    ready.wait(60)
    producer = _producer(cfg, topic)
    payload = b'\x01' * size

    def wait_below(limit: int) -> None:
        counts.wait_for(limit, dispatcher)

    # Warm-up (negative i, not measured): the measured loop's shape, then drained. It lasts at least
    # `warmup` items and at least `warmupSeconds` (the same rule as proxystream's runs; the clock bounds it).
    warmup_start = time.time()
    warm_until = warmup_start + cfg.get('warmupSeconds', 0)
    k = 0
    while k < cfg.get('warmup', 2 * workers) or time.time() < warm_until:
        wait_below(k + 1 - window)
        producer.send(topic, payload, evict=True, metadata={'i': -1 - k, 't': time.time()})
        k += 1
    warmup = k
    wait_below(warmup)
    warmup_rate = warmup / max(time.time() - warmup_start, 1e-9)
    start = time.time()
    half = items - items // 2
    half_at = None
    for i in range(items):
        wait_below(warmup + i + 1 - window)
        if half_at is None and counts.finished >= warmup + half:
            half_at = time.time()
        producer.send(topic, payload, evict=True, metadata={'i': i, 't': time.time()})
    wait_below(warmup + half)
    half_at = half_at or time.time()
    wait_below(warmup + items)
    seconds = time.time() - start
    second_half = (items - half) / max(time.time() - half_at, 1e-9)
    producer.close_topics(topic)
    result = out.get(timeout=600)
    dispatcher.join()
    producer.close()
    measured = [r for r in result['results'] if r[0] >= 0]
    lat = [r[1] for r in measured]
    return {
        'tasks': len(measured),
        'seconds': seconds,
        'tasksPerSecond': len(measured) / seconds,
        'warmupItems': warmup,
        'warmupTasksPerSecond': warmup_rate,
        'secondHalfTasksPerSecond': second_half,
        'startupShare': max(0.0, 1 - len(measured) / second_half / seconds),
        'latencyP50Ms': percentile(lat, 50),
        'latencyP99Ms': percentile(lat, 99),
        'resolveP50Ms': percentile([r[2] for r in measured], 50),
        'dispatcherCpuSeconds': result['cpuSeconds'],
    }


# ------------------------------------------------------------------------------------ store


def _rss_bytes() -> int:
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    """VmHWM: a fresh exec starts it anew, unlike ru_maxrss, which Linux carries over from the parent."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return 0


def run_store(cfg: dict[str, Any]) -> dict[str, Any]:
    store = Store('peer-big', RedisConnector(cfg['host'], cfg['port']), cache_size=0)
    before = _rss_bytes()
    # The source of a put is made before the clock starts, as on the proxystream side.
    data = None
    if cfg['op'] == 'put':
        source = bytearray(b'\x07') * cfg['size']
        source[0] = 1
        source[-1] = 2
        data = bytes(source)
        del source
    start = time.perf_counter()
    ok = True
    key = RedisKey(*cfg['key']) if cfg['op'] == 'get' else None
    if data is not None:
        key = store.put(data)
    else:
        got = store.get(key)
        ok = got is not None and len(got) == cfg['size'] and got[0] == 1 and got[-1] == 2
    seconds = time.perf_counter() - start
    peak_rise = max(0, _peak_rss_bytes() - before)
    if cfg['op'] == 'get':
        store.evict(key)
    store.close()
    return {'seconds': seconds, 'peakRise': peak_rise, 'ok': ok, 'key': key}


def main() -> None:
    cfg = json.loads(sys.argv[1])
    modes = {'raw': run_raw, 'scaling': run_scaling, 'store': run_store}
    result = modes[cfg['mode']](cfg)
    print(json.dumps(result))


if __name__ == '__main__':
    mp.set_start_method('fork')
    main()
