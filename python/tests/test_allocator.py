"""glibc allocator tuning: a process that resolves large payloads keeps their pages instead of faulting in fresh ones
for every payload, and leaves the allocator alone when the user chose its settings or turned the tuning off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from proxystream.allocator import HEAP_TUNING_ENV

# A child process (the allocator reads no settings after start, and a test process has its own history) that puts a
# 10 MB object into a RedisStore and resolves it 200 times through a Ref, as a worker does: each resolve reads into a
# new buffer and copies it into ``bytes``. It prints the tuning state before and after, and the page faults of the
# second half.
READER = """
import json, os, resource, sys
from proxystream.allocator import allocator_tuning_state
from proxystream.proxy import Ref, StoreRegistry
from proxystream.store import RedisStore
from proxystream.wire import RefPayload, checksum
url, prefix = sys.argv[1], sys.argv[2]
data = bytes(range(256)) * 39_063
with StoreRegistry([RedisStore(url=url, key_prefix=prefix)]) as stores:
    stores.get("redis").put("big", data)
    payload = RefPayload(store_id="redis", key="big", size=len(data), checksum=checksum(data), codec="bytes")
    before, total, faults = allocator_tuning_state(), 0, 0
    for i in range(200):
        if i == 100:
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        total += Ref(payload, stores).resolve()[i]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    stores.get("redis").delete("big")
print(json.dumps({"before": before, "after": allocator_tuning_state(), "total": total, "faults": faults}))
"""

EXPECTED_TOTAL = sum(i % 256 for i in range(200))


def read_in_child(redis_url: str, prefix: str, **env: str) -> dict[str, Any]:
    clean = {name: value for name, value in os.environ.items() if name not in ("GLIBC_TUNABLES", HEAP_TUNING_ENV) and not name.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", READER, redis_url, prefix], env={**clean, **env}, capture_output=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


@pytest.mark.skipif(not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="the tuning is glibc's")
def test_the_first_large_read_tunes_the_allocator_and_spares_most_page_faults(redis_url: str, prefix: str) -> None:
    tuned = read_in_child(redis_url, prefix)
    plain = read_in_child(redis_url, prefix, **{HEAP_TUNING_ENV: "off"})
    assert tuned == {**tuned, "before": "idle", "after": "on", "total": EXPECTED_TOTAL}
    assert plain == {**plain, "before": "off", "after": "off", "total": EXPECTED_TOTAL}
    # 100 resolves of 10 MB: 280,700 faults without (a new buffer and a bytes copy in fresh pages each time), none
    # with (three runs of each here).
    assert tuned["faults"] < plain["faults"] / 3, (tuned, plain)


@pytest.mark.parametrize("setting", [{"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, {"MALLOC_ARENA_MAX": "2"}, {HEAP_TUNING_ENV: "false"}])
def test_the_users_own_allocator_settings_stand(redis_url: str, prefix: str, setting: dict[str, str]) -> None:
    assert read_in_child(redis_url, prefix, **setting) | {"faults": 0} == {"before": "off", "after": "off", "total": EXPECTED_TOTAL, "faults": 0}
