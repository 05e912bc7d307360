// Drives the TypeScript arrow codec (dist/src/wire, apache-arrow) for the Python Arrow interop tests
// (test_arrow.py). Reads one JSON request on stdin, bytes as hex:
//   { mode: 'encode', tables: [{ columns: [{ name, type, values }] }] }
//     builds each table with apache-arrow and prints { payloads: [hex] } (encodePayload(table, 'arrow'));
//   { mode: 'decode', payloads: [hex] }
//     decodes each with decodePayload(bytes, 'arrow') and prints { results: [{ table, reencoded } | { code }] },
//     `table` as { numRows, fields: [{ name, type, nullable }], columns: { name: values } } and `reencoded`
//     the hex of encodePayload(decoded table, 'arrow').
// Column types: int8, int32, int64 (values as decimal strings), uint8, float32, float64, utf8, bool,
// binary (values as hex) and list<float64>; null values are nulls.
import { Binary, Bool, Field, Float32, Float64, Int32, Int64, Int8, List, Table, Uint8, Utf8, vectorFromArray } from 'apache-arrow';
import { decodePayload, encodePayload, joinParts } from '../../dist/src/wire/codecs.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

const TYPES = {
  int8: () => new Int8(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  uint8: () => new Uint8(),
  float32: () => new Float32(),
  float64: () => new Float64(),
  utf8: () => new Utf8(),
  bool: () => new Bool(),
  binary: () => new Binary(),
  'list<float64>': () => new List(new Field('item', new Float64(), true)),
};

function columnValues(type, values) {
  if (type === 'int64') return values.map((value) => (value === null ? null : BigInt(value)));
  if (type === 'binary') return values.map((value) => (value === null ? null : Uint8Array.from(Buffer.from(value, 'hex'))));
  return values;
}

function buildTable(spec) {
  const vectors = {};
  for (const { name, type, values } of spec.columns) {
    const make = TYPES[type];
    if (make === undefined) throw new Error(`unknown column type ${type}`);
    vectors[name] = vectorFromArray(columnValues(type, values), make());
  }
  return new Table(vectors);
}

/** A cell as JSON: bigint as a decimal string, bytes as hex, nested vectors as arrays. */
function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === 'object' && typeof value.toArray === 'function') return [...value].map(plain);
  return value;
}

function describe(table) {
  const columns = {};
  for (const field of table.schema.fields) columns[field.name] = [...table.getChild(field.name)].map(plain);
  return {
    numRows: table.numRows,
    fields: table.schema.fields.map((field) => ({ name: field.name, type: String(field.type), nullable: field.nullable })),
    columns,
  };
}

let output;
if (request.mode === 'encode') {
  output = { payloads: request.tables.map((spec) => hex(joinParts(encodePayload(buildTable(spec), 'arrow').parts))) };
} else {
  output = {
    results: request.payloads.map((payload) => {
      try {
        const table = decodePayload(Buffer.from(payload, 'hex'), 'arrow');
        return { table: describe(table), reencoded: hex(joinParts(encodePayload(table, 'arrow').parts)) };
      } catch (error) {
        return { code: error.code ?? null, name: error.name, message: error.message };
      }
    }),
  };
}
process.stdout.write(JSON.stringify(output));
