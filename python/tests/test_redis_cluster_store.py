"""RedisStore on a real 3-node Redis Cluster: every object on one node, scripts per object, stats over every
primary, and objects shared with the TypeScript store on the same Cluster.

The Cluster is the vitest global setup's (``PROXYSTREAM_TEST_REDIS_CLUSTER``, ``host:port,...``), else one
started here with ``scripts/servers/cli.mjs`` and stopped after.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterator

import pytest
from redis.cluster import ClusterNode, RedisCluster

from conftest import run_ts_store
from helpers import b64, given_or_started
from proxystream import errors
from proxystream.store import RedisStore

CLUSTER_VARIABLE = "PROXYSTREAM_TEST_REDIS_CLUSTER"
CHUNK = 1024


@pytest.fixture(scope="module")
def cluster_nodes() -> Iterator[list[dict[str, Any]]]:
    for nodes in given_or_started(CLUSTER_VARIABLE, "redis-cluster", lambda info: ",".join(f"{node['host']}:{node['port']}" for node in info["nodes"])):
        yield [{"host": entry.rsplit(":", 1)[0], "port": int(entry.rsplit(":", 1)[1])} for entry in nodes.split(",")]


@pytest.fixture
def cluster(cluster_nodes: list[dict[str, Any]]) -> Iterator[RedisCluster]:
    client = RedisCluster(startup_nodes=[ClusterNode(node["host"], node["port"]) for node in cluster_nodes], protocol=2)
    yield client
    client.close()


@pytest.fixture
def cluster_prefix(cluster: RedisCluster) -> Iterator[str]:
    """A key prefix of this test alone; keys left under it (but the expiring release records) fail the test."""
    name = f"pytest-{uuid.uuid4().hex[:12]}"
    yield name
    keys = [key.decode() for key in cluster.scan_iter(match=f"{name}:*")]
    left = [key for key in keys if not (key.endswith(":r") and f"{key[:-2]}:m" not in keys and cluster.pttl(key) > 0)]
    for key in keys:
        cluster.delete(key)
    assert left == [], f"keys left in the Cluster: {left}"


@pytest.fixture
def store(cluster: RedisCluster, cluster_prefix: str) -> Iterator[RedisStore]:
    with RedisStore(client=cluster, key_prefix=cluster_prefix, chunk_bytes=CHUNK, pipeline_chunks=2) as made:
        yield made


def _primaries_holding(cluster: RedisCluster, prefix: str) -> int:
    return sum(1 for node in cluster.get_primaries() if any(True for _ in cluster.scan_iter(match=f"{prefix}:*:m", target_nodes=node)))


def test_objects_spread_over_the_primaries_round_trip_with_their_lifetimes(store: RedisStore, cluster: RedisCluster, cluster_prefix: str) -> None:
    objects = {f"obj-{i}": os.urandom(CHUNK * 2 + i) for i in range(12)}
    for key, data in objects.items():
        store.put(key, data, readers=["a", "b"], ttl_ms=60_000, lease_ms=10_000)
    assert _primaries_holding(cluster, cluster_prefix) >= 2, "12 keys should land on more than one of 3 primaries"
    # One commit for keys in many slots: one script call per object, pipelined.
    assert store.commit([*objects, "never-written"]) == ["never-written"]
    for key, data in objects.items():
        assert store.get(key) == data
        assert store.get(key, expected_size=len(data)) == data
        assert 0 < cluster.pttl(f"{cluster_prefix}:{{{key}}}:m") <= 60_000
    assert store.stats().objects == 12 and store.stats().bytes == sum(len(data) for data in objects.values())
    assert store.release("obj-0", "a") is False
    assert store.release("obj-0", "b") is True
    assert store.get("obj-0") is None and store.released_by("obj-0") == ["a", "b"]
    assert store.delete("obj-1") is True and store.exists("obj-1") is False
    assert store.stats().objects == 10
    for key in list(objects)[2:]:
        assert store.delete(key)


def test_objects_cross_between_the_typescript_and_python_stores_on_one_cluster(
    store: RedisStore, cluster_nodes: list[dict[str, Any]], cluster_prefix: str
) -> None:
    from_python, from_ts = os.urandom(CHUNK * 3 + 5), os.urandom(CHUNK * 2 + 7)
    store.put("py", from_python, readers=["ts", "py"], ttl_ms=60_000, lease_ms=10_000)
    assert store.commit(["py"]) == []
    ts = run_ts_store(
        {
            "cluster": cluster_nodes,
            "keyPrefix": cluster_prefix,
            "chunkBytes": CHUNK,
            "ops": [
                {"op": "get", "key": "py"},
                {"op": "release", "key": "py", "reader": "ts"},
                {"op": "put", "key": "ts", "base64": b64(from_ts), "options": {"readers": ["py"], "ttlMs": 60_000, "leaseMs": 10_000}},
                {"op": "commit", "keys": ["ts"]},
            ],
        }
    )
    assert ts[0] == b64(from_python) and ts[1] is False and ts[3] == []
    assert store.release("py", "py") is True
    assert store.get("ts") == from_ts
    assert store.release("ts", "py") is True
    assert store.stats().objects == 0


def test_a_client_that_decodes_replies_is_refused(cluster_nodes: list[dict[str, Any]]) -> None:
    decoding = RedisCluster(startup_nodes=[ClusterNode(node["host"], node["port"]) for node in cluster_nodes], decode_responses=True)
    try:
        with pytest.raises(errors.ConfigError, match="decode_responses"):
            RedisStore(client=decoding)
    finally:
        decoding.close()
