"""Shared by the tests: tagged JSON (as scripts/vectors/tagged-json.mjs) and what a reader must decode."""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from proxystream.wire import DeadLetter, InlinePayload, RefPayload, StreamEvent, read_ndarray_header
from proxystream.wire.msgpack_js import js_number_string

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "test" / "vectors"


def given_or_started(variable: str, server: str, address: Callable[[dict[str, Any]], str]) -> Iterator[str]:
    """For a fixture: the address in environment ``variable`` (the vitest global setup's server) when it is set,
    else ``address(info)`` of a server of that kind started with :func:`started_server`, stopped after."""
    given = os.environ.get(variable, "").strip()
    if given:
        yield given
        return
    with started_server(server) as info:
        yield address(info)


@contextmanager
def started_server(*args: str) -> Iterator[dict[str, Any]]:
    """Starts a real server with the project's script (``node scripts/servers/cli.mjs start <args>``), yields the
    connection info it printed, and stops it (SIGTERM: the script removes its data) when the block ends."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"starting {args[0]} needs node (scripts/servers/cli.mjs)")
    process = subprocess.Popen([node, str(REPO / "scripts" / "servers" / "cli.mjs"), "start", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    try:
        printed = ""
        for line in process.stdout:  # the server's info, pretty-printed JSON ending with a lone "}"
            printed += line
            if line.rstrip() == "}":
                break
        try:
            info: dict[str, Any] = json.loads(printed)
        except ValueError:
            pytest.fail(f"could not start {args[0]} with scripts/servers/cli.mjs: {printed!r}")
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def to_tagged(value: Any) -> Any:
    """``value`` as tagged JSON: bytes as ``{"$bytes": hex}``, non-finite numbers as ``{"$number": ...}``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$number": js_number_string(value)}
    if isinstance(value, (list, tuple)):
        return [to_tagged(item) for item in value]
    if isinstance(value, dict):
        return {key: to_tagged(item) for key, item in value.items()}
    return value


def event_expectation(event: StreamEvent) -> Any:
    """What a reader must decode from an event, as tagged JSON (the shape the TypeScript writer uses)."""
    payload: dict[str, Any] | None = None
    if isinstance(event.payload, InlinePayload):
        payload = {"type": "inline", "codec": event.payload.codec, "data": event.payload.data}
    elif isinstance(event.payload, RefPayload):
        ref = event.payload
        payload = {"type": "ref", "storeId": ref.store_id, "key": ref.key, "size": ref.size, "checksum": ref.checksum, "codec": ref.codec}
    return to_tagged(
        {
            "kind": event.kind,
            "id": event.id,
            "topic": event.topic,
            "timestamp": event.timestamp,
            "key": event.key,
            "metadata": event.metadata,
            "payload": payload,
        }
    )


def ndarray_expectation(payload: bytes, array: np.ndarray) -> dict[str, Any]:
    """dtype, shape, bare flag and values (as JavaScript's ``String`` writes them) of a decoded ndarray."""
    header = read_ndarray_header(payload)
    flat = array.reshape(-1)
    if array.dtype.kind == "f":
        values = [js_number_string(float(value)) for value in flat]
    else:
        values = [str(int(value)) for value in flat]
    return {"dtype": header.dtype, "shape": list(array.shape), "bare": header.bare, "values": values}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dead_letter_expectation(letter: DeadLetter) -> Any:
    """A dead letter's fields under the TypeScript names, as tagged JSON (what a reader must decode)."""
    return to_tagged(
        {
            "topic": letter.topic,
            "position": letter.position,
            "group": letter.group,
            "deliveryCount": letter.delivery_count,
            "code": letter.code,
            "message": letter.message,
            "failedAt": letter.failed_at,
            "original": letter.original,
            "attempts": letter.attempts,
            "key": letter.key,
        }
    )
