export { checksum, CHECKSUM_ALGORITHM } from './checksum.js';
export { codecFor, decodePayload, encodePayload, joinParts, type CodecName, type EncodedPayload } from './codecs.js';
export {
  decodeEvent,
  DEFAULT_WIRE_LIMITS,
  encodeEvent,
  WIRE_VERSION,
  type EventFields,
  type InlinePayload,
  type RefPayload,
  type StreamEvent,
  type WireLimits,
} from './envelope.js';
export {
  DEAD_LETTER_VERSION,
  deadLetterMessage,
  decodeDeadLetter,
  DEFAULT_MAX_DELIVERIES,
  encodeDeadLetter,
  isDeadLetter,
  type DeadLetter,
  type DeadLetterReason,
  type FailedMessage,
} from './dead-letter.js';
export { idFromString, idToString, newIdBytes } from './ids.js';
export { assertMetadata, DEFAULT_METADATA_LIMITS, metadataProblem, type Metadata, type MetadataLimits, type MetadataValue } from './metadata.js';
export { decodeNDArray, DTYPES, encodeNDArray, isNDArray, isTypedArray, type DType, type NDArray, type TypedArray } from './ndarray.js';
