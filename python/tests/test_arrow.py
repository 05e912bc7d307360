"""The arrow codec: pyarrow Tables as Arrow IPC stream bytes, read and written as the TypeScript codec
(apache-arrow's ``tableToIPC(table, 'stream')`` / ``tableFromIPC``) does, checked against it through
``ts_arrow.mjs`` (dist/src/wire).

pyarrow and apache-arrow do not write the same bytes for the same table (their flatbuffers builders lay
the schema and batch headers out differently), so the interop tests compare decoded tables, both ways.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO
from proxystream import errors
from proxystream.wire import checksum, codec_for, decode_payload, encode_payload, join_parts

pa = pytest.importorskip("pyarrow")

TS_ARROW = Path(__file__).with_name("ts_arrow.mjs")
DIST_CODECS = REPO / "dist" / "src" / "wire" / "codecs.js"

# Column types both sides build, with the name apache-arrow gives them (String(field.type)).
PA_TYPES: dict[str, tuple[Any, str]] = {
    "int8": (pa.int8(), "Int8"),
    "int32": (pa.int32(), "Int32"),
    "int64": (pa.int64(), "Int64"),
    "uint8": (pa.uint8(), "Uint8"),
    "float32": (pa.float32(), "Float32"),
    "float64": (pa.float64(), "Float64"),
    "utf8": (pa.string(), "Utf8"),
    "bool": (pa.bool_(), "Bool"),
    "binary": (pa.binary(), "Binary"),
    "list<float64>": (pa.list_(pa.float64()), "List<Float64>"),
}

# Tables as JSON specs (int64 as decimal strings, binary as hex), the shape ts_arrow.mjs builds from.
SPECS: list[dict[str, Any]] = [
    {
        "columns": [
            {"name": "step", "type": "int32", "values": [1, 2, 3, -4]},
            {"name": "energy", "type": "float64", "values": [1.5, -0.25, 1e300, 0.0]},
            {"name": "label", "type": "utf8", "values": ["a", "", "é✓", "long " * 20]},
        ]
    },
    {
        "columns": [
            {"name": "big", "type": "int64", "values": ["9007199254740993", None, "-9223372036854775808"]},
            {"name": "small", "type": "int8", "values": [-128, 127, None]},
            {"name": "byte", "type": "uint8", "values": [0, None, 255]},
            {"name": "ratio", "type": "float32", "values": [1.5, None, -2.25]},
            {"name": "ok", "type": "bool", "values": [True, False, None]},
            {"name": "blob", "type": "binary", "values": ["00ff10", None, ""]},
            {"name": "trace", "type": "list<float64>", "values": [[1.5, 2.5], None, []]},
        ]
    },
    {"columns": [{"name": "empty", "type": "float64", "values": []}, {"name": "names", "type": "utf8", "values": []}]},
]


def _cell_to_pa(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "int64":
        return int(value)
    if kind == "binary":
        return bytes.fromhex(value)
    return value


def spec_table(spec: dict[str, Any]) -> Any:
    """The pyarrow table of a spec."""
    columns = spec["columns"]
    arrays = [pa.array([_cell_to_pa(column["type"], value) for value in column["values"]], type=PA_TYPES[column["type"]][0]) for column in columns]
    return pa.Table.from_arrays(arrays, names=[column["name"] for column in columns])


def _cell_to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool) or value is None or isinstance(value, (float, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return [_cell_to_json(item) for item in value]
    raise TypeError(type(value))


def ts_description(table: Any) -> dict[str, Any]:
    """What ts_arrow.mjs prints for a decoded table, made from a pyarrow table (int64 cells as strings)."""
    names = {str(kind): ts_name for kind, ts_name in PA_TYPES.values()}
    columns: dict[str, Any] = {}
    for field, column in zip(table.schema, table.columns):
        values = [_cell_to_json(value) for value in column.to_pylist()]
        if field.type == pa.int64():
            values = [None if value is None else str(value) for value in values]
        columns[field.name] = values
    return {
        "numRows": table.num_rows,
        "fields": [{"name": field.name, "type": names[str(field.type)], "nullable": field.nullable} for field in table.schema],
        "columns": columns,
    }


def encode(table: Any) -> bytes:
    encoded = encode_payload(table, "arrow")
    assert encoded.codec == "arrow"
    data = join_parts(encoded.parts)
    assert encoded.size == len(data)
    return data


def run_ts(request: dict[str, Any]) -> Any:
    node = shutil.which("node")
    if node is None or not DIST_CODECS.is_file():
        pytest.fail(f"the interop tests need node and {DIST_CODECS} (npm run build)")
    done = subprocess.run([node, str(TS_ARROW)], input=json.dumps(request).encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.mark.parametrize("spec", SPECS, ids=["numbers-and-text", "every-type-with-nulls", "no-rows"])
def test_a_table_round_trips_through_ipc_stream_bytes(spec: dict[str, Any]) -> None:
    table = spec_table(spec)
    data = encode(table)
    assert data[:4] == b"\xff\xff\xff\xff"  # a continuation marker, then the schema message
    assert data[-8:] == b"\xff\xff\xff\xff\x00\x00\x00\x00"  # the end-of-stream marker
    decoded = decode_payload(data, "arrow")
    assert isinstance(decoded, pa.Table)
    assert decoded.equals(table, check_metadata=True)
    assert checksum(data) == checksum(encode_payload(table).parts)


def test_a_table_of_several_batches_and_schema_metadata_round_trips() -> None:
    schema = pa.schema([pa.field("x", pa.int32(), nullable=False), pa.field("y", pa.string())], metadata={"origin": "simulation"})
    first = pa.record_batch([pa.array([1, 2], pa.int32()), pa.array(["a", None])], schema=schema)
    second = pa.record_batch([pa.array([3], pa.int32()), pa.array(["c"])], schema=schema)
    table = pa.Table.from_batches([first, second])
    decoded = decode_payload(encode(table), "arrow")
    assert isinstance(decoded, pa.Table)
    assert decoded.equals(table, check_metadata=True)
    assert decoded.schema.field("x").nullable is False
    assert decoded.to_batches()[0].num_rows == 2


def test_codec_for_picks_arrow_for_a_table_and_the_decode_is_a_view_of_the_bytes() -> None:
    table = spec_table(SPECS[0])
    assert codec_for(table) == "arrow"
    assert codec_for(table.to_batches()[0]) == "msgpack"  # as TypeScript: only a Table is arrow
    data = bytearray(encode(table))
    decoded = decode_payload(memoryview(data), "arrow")
    assert decoded.equals(table)


def test_the_arrow_codec_needs_a_table() -> None:
    for value in (b"x", {"a": [1]}, [1, 2], None):
        with pytest.raises(errors.CodecError) as raised:
            encode_payload(value, "arrow")
        assert raised.value.code == "PS_CODEC"


def test_invalid_bytes_raise_the_codec_error_typescript_raises() -> None:
    invalid = [b"\x00", b"\xde\xad\xbe\xef", b"\xff\xff\xff\xff\x00\x00\x00\x00", bytes(range(1, 16))]
    truncated = encode(spec_table(SPECS[0]))[:-40]
    columnless = encode(pa.table({}))  # written, but a stream without fields is refused on read (as TypeScript does)
    cases = [*invalid, truncated, columnless]
    for data in cases:
        with pytest.raises(errors.CodecError) as raised:
            decode_payload(data, "arrow")
        assert raised.value.code == errors.ErrorCodes.CODEC
    results = run_ts({"mode": "decode", "payloads": [data.hex() for data in cases]})["results"]
    assert [result.get("code") for result in results] == ["PS_CODEC"] * len(cases)
    # No bytes at all are an empty table on both sides.
    empty = decode_payload(b"", "arrow")
    assert isinstance(empty, pa.Table) and empty.num_columns == 0 and empty.num_rows == 0
    assert run_ts({"mode": "decode", "payloads": [""]})["results"][0]["table"] == {"numRows": 0, "fields": [], "columns": {}}


def test_without_pyarrow_the_codec_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(spec_table(SPECS[0]))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.ipc", None)
    with pytest.raises(errors.MissingDependencyError) as raised:
        decode_payload(data, "arrow")
    assert raised.value.code == "PS_MISSING_DEPENDENCY"
    assert raised.value.context["package"] == "pyarrow"
    assert "proxystream[arrow]" in raised.value.message
    # Nothing else needs it: a value that is not a Table is no arrow value, and other codecs work.
    assert codec_for(b"x") == "bytes"
    with pytest.raises(errors.CodecError):
        encode_payload([1], "arrow")
    assert decode_payload(join_parts(encode_payload([1, "a"]).parts), "msgpack") == [1, "a"]


def test_typescript_written_tables_decode_in_python_and_back() -> None:
    payloads = [bytes.fromhex(payload) for payload in run_ts({"mode": "encode", "tables": SPECS})["payloads"]]
    rewritten: list[bytes] = []
    for spec, data in zip(SPECS, payloads):
        decoded = decode_payload(data, "arrow")
        assert isinstance(decoded, pa.Table)
        expected = spec_table(spec)
        assert decoded.schema.names == expected.schema.names
        assert decoded.schema.types == expected.schema.types
        assert decoded.to_pydict() == expected.to_pydict()
        again = encode(decoded)
        # pyarrow lays out the flatbuffer headers differently from apache-arrow: the same table, other bytes.
        assert decode_payload(again, "arrow").equals(decoded, check_metadata=True)
        rewritten.append(again)
    # TypeScript reads Python's rewrite as the table it wrote.
    originals = run_ts({"mode": "decode", "payloads": [data.hex() for data in payloads]})["results"]
    rereads = run_ts({"mode": "decode", "payloads": [data.hex() for data in rewritten]})["results"]
    assert [result["table"] for result in rereads] == [result["table"] for result in originals]
    assert all(result["reencoded"] == data.hex() for result, data in zip(originals, payloads))  # TS itself is stable


def test_python_written_tables_decode_in_typescript_and_back() -> None:
    tables = [spec_table(spec) for spec in SPECS]
    schema = pa.schema([pa.field("x", pa.int32(), nullable=False), pa.field("y", pa.string())])
    batch = pa.record_batch([pa.array([1, 2], pa.int32()), pa.array(["a", None])], schema=schema)
    tables.append(pa.Table.from_batches([batch, batch]))
    payloads = [encode(table) for table in tables]
    results = run_ts({"mode": "decode", "payloads": [data.hex() for data in payloads]})["results"]
    for table, result in zip(tables, results):
        assert "code" not in result, result
        assert result["table"] == ts_description(table)
        back = decode_payload(bytes.fromhex(result["reencoded"]), "arrow")
        assert back.equals(table, check_metadata=True)


def test_the_ipc_file_format_is_read_too_as_table_from_ipc_does() -> None:
    table = spec_table(SPECS[1])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    assert data[:6] == b"ARROW1"
    decoded = decode_payload(data, "arrow")
    assert isinstance(decoded, pa.Table) and decoded.equals(table)
    [result] = run_ts({"mode": "decode", "payloads": [data.hex()]})["results"]
    assert result["table"] == ts_description(table)
