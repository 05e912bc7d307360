"""The Python half of the Python-simulation example (see README.md here).

A toy molecular-dynamics simulation in numpy: each of ``--sims`` simulations moves ``--atoms`` atoms by a small
random step per frame. Every frame, a float32 array of shape (atoms, 3) (1 MB for the default 87,381 atoms),
goes into the RedisStore and only a ref travels on ``sim-frames.<run>`` to the TypeScript pipeline
(pipeline.ts), which computes each frame's radius of gyration and answers on ``sim-scores.<run>``. This script
reads the answers back, checks each against numpy's own value, and prints them.

Usage: python simulate.py --redis redis://127.0.0.1:6379 --run <id> [--sims 2] [--steps 10] [--atoms 87381]
Exit status 0 when every frame came back with the right value and none of its frames is left in the store.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from proxystream import PayloadLifetime, RedisStore, RedisStreamsBroker, StreamConsumer, StreamProducer


def radius_of_gyration(positions: np.ndarray) -> float:
    """RMS distance of the atoms from their centroid (in float64, as the pipeline computes it)."""
    xyz = positions.astype(np.float64)
    return float(np.sqrt(((xyz - xyz.mean(axis=0)) ** 2).sum(axis=1).mean()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--run", default="demo", help="names this run's topics; use the pipeline's --run")
    parser.add_argument("--sims", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--atoms", type=int, default=87_381)
    args = parser.parse_args()
    frames, scores = f"sim-frames.{args.run}", f"sim-scores.{args.run}"

    broker, store = RedisStreamsBroker(url=args.redis), RedisStore(url=args.redis)
    rng = np.random.default_rng(7)
    expected: dict[tuple[int, int], float] = {}
    keys: list[str] = []
    started = time.perf_counter()
    # Frames live until the pipeline's group has released them (or an hour passed).
    with StreamProducer(broker.publisher(), store, lifetime=PayloadLifetime(readers=["pipeline"], ttl_ms=3_600_000)) as producer:
        positions = [rng.normal(scale=10.0, size=(args.atoms, 3)).astype(np.float32) for _ in range(args.sims)]
        for step in range(args.steps):
            for sim in range(args.sims):
                positions[sim] += rng.normal(scale=0.05, size=(args.atoms, 3)).astype(np.float32)
                keys.append(producer.send(frames, positions[sim], metadata={"sim": sim, "step": step}).id)
                expected[(sim, step)] = radius_of_gyration(positions[sim])
        producer.end(frames)
        sent = producer.stats
    print(f"simulation: {sent.sent} frames sent ({sent.payload_bytes_stored / 1e6:.1f} MB to the store, {sent.event_bytes / 1e3:.1f} kB of events)")

    wrong = 0
    received = 0
    with StreamConsumer(broker.subscriber(scores, "simulation"), [store]) as consumer:
        for item in consumer:
            key = (int(item.metadata["sim"]), int(item.metadata["step"]))
            rg = float(item.resolve()[0])
            ok = key in expected and abs(rg - expected[key]) <= 1e-9 * max(1.0, expected[key])
            wrong += 0 if ok else 1
            received += 1
            print(f"  sim {key[0]} step {key[1]:3d}: radius of gyration {rg:8.4f} (numpy {expected.get(key, float('nan')):8.4f}){'' if ok else '  MISMATCH'}")
            item.ack()
    left = sum(1 for key in keys if store.exists(key))
    print(f"simulation: {received} of {len(expected)} scores back in {time.perf_counter() - started:.2f} s, {wrong} wrong; {left} frames left in the store")
    store.close()
    broker.close()
    return 0 if received == len(expected) and wrong == 0 and left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
