"""Shared vectors: every TypeScript-written vector decodes to what TypeScript decoded and encodes again
to the same bytes; the Python-written vectors file is what this client writes now."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

import python_vectors
from helpers import VECTORS, dead_letter_expectation, event_expectation, ndarray_expectation, to_tagged
from proxystream.errors import MalformedEventError
from proxystream.wire import (
    checksum,
    decode_dead_letter,
    decode_event,
    decode_payload,
    encode_dead_letter,
    encode_event,
    encode_ndarray,
    encode_payload,
    join_parts,
    read_ndarray_header,
)

TS = json.loads((VECTORS / "ts-vectors.json").read_text(encoding="utf-8"))


def _bytes(vector: dict[str, Any]) -> bytes:
    return base64.b64decode(vector["base64"])


def _name(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def test_the_typescript_file_has_every_kind_of_vector() -> None:
    assert TS["writer"] == "typescript"
    for kind in ("events", "errors", "payloads", "deadLetters", "checksums"):
        assert len(TS[kind]) > 0, kind


@pytest.mark.parametrize("vector", TS["events"], ids=_name)
def test_typescript_event_decodes_and_encodes_to_the_same_bytes(vector: dict[str, Any]) -> None:
    data = _bytes(vector)
    event = decode_event(data)
    assert event_expectation(event) == vector["expect"]
    assert encode_event(event.fields()) == data


@pytest.mark.parametrize("vector", TS["errors"], ids=_name)
def test_typescript_error_vector_is_refused_with_its_code(vector: dict[str, Any]) -> None:
    with pytest.raises(MalformedEventError) as raised:
        decode_event(_bytes(vector))
    assert raised.value.code == vector["code"]


@pytest.mark.parametrize("vector", TS["payloads"], ids=_name)
def test_typescript_payload_decodes_and_encodes_to_the_same_bytes(vector: dict[str, Any]) -> None:
    data = _bytes(vector)
    assert checksum(data) == vector["checksum"]
    value = decode_payload(data, vector["codec"])
    if vector["codec"] == "ndarray":
        assert isinstance(value, np.ndarray)
        assert ndarray_expectation(data, value) == vector["expect"]
        again = join_parts(encode_ndarray(value, bare=read_ndarray_header(data).bare))
    else:
        assert to_tagged(value) == vector["expect"]["value"]
        again = join_parts(encode_payload(value, vector["codec"]).parts)
    assert again == data


@pytest.mark.parametrize("vector", TS["deadLetters"], ids=_name)
def test_typescript_dead_letter_decodes_and_encodes_to_the_same_bytes(vector: dict[str, Any]) -> None:
    data = _bytes(vector)
    letter = decode_dead_letter(data)
    assert dead_letter_expectation(letter) == vector["expect"]
    assert encode_dead_letter(letter) == data


@pytest.mark.parametrize("vector", TS["checksums"], ids=_name)
def test_typescript_checksum_matches(vector: dict[str, Any]) -> None:
    assert checksum(_bytes(vector)) == vector["checksum"]


def test_the_python_vectors_file_is_what_this_client_writes() -> None:
    written = (VECTORS / "python-vectors.json").read_text(encoding="utf-8")
    assert written == python_vectors.serialized(), "run python python/tests/python_vectors.py to rewrite it"
