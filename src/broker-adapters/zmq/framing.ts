import { MalformedEventError } from '../../errors/index.js';

/** Version byte of the ZeroMQ header frame. */
export const FRAME_VERSION = 1;
const FLAG_END = 1;
const FLAG_KEY = 2;
const FIXED = 18;
const TWO_32 = 2 ** 32;

/** What travels in the header frame of `[topic + '\0', header, value]`. */
export interface FrameHeader {
  /** 8 random bytes naming the sending socket, hex. */
  publisherId: string;
  /** Per-(sending socket, topic) counter starting at 0; gaps reveal drops. */
  sequence: number;
  endOfStream: boolean;
  key: string | undefined;
}

/** The first frame: the topic plus a NUL, so the subscription `a\0` never matches topic `ab`. */
export function topicFrame(topic: string): Buffer {
  return Buffer.from(`${topic}\u0000`, 'utf8');
}

/** The ZeroMQ subscription prefix for a topic (equal to its topic frame). */
export const subscriptionPrefix = topicFrame;

/** Layout: version u8, flags u8, publisher id 8 bytes, sequence u64 BE, then the key in UTF-8. */
export function encodeHeader(publisherId: Buffer, sequence: number, endOfStream: boolean, key: string | undefined): Buffer {
  const keyLength = key === undefined ? 0 : Buffer.byteLength(key, 'utf8');
  const header = Buffer.allocUnsafe(FIXED + keyLength);
  header[0] = FRAME_VERSION;
  header[1] = (endOfStream ? FLAG_END : 0) | (key === undefined ? 0 : FLAG_KEY);
  publisherId.copy(header, 2, 0, 8);
  header.writeUInt32BE(Math.floor(sequence / TWO_32), 10);
  header.writeUInt32BE(sequence >>> 0, 14);
  if (key !== undefined) header.write(key, FIXED, 'utf8');
  return header;
}

/** Parses a header frame; throws {@link MalformedEventError} for anything else. */
export function decodeHeader(frame: Uint8Array): FrameHeader {
  const header = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (header.length < FIXED || header[0] !== FRAME_VERSION) {
    throw new MalformedEventError('not a proxystream ZeroMQ header frame', { context: { bytes: header.length, version: header[0] } });
  }
  const flags = header[1]!;
  return {
    publisherId: header.toString('hex', 2, 10),
    sequence: header.readUInt32BE(10) * TWO_32 + header.readUInt32BE(14),
    endOfStream: (flags & FLAG_END) !== 0,
    key: (flags & FLAG_KEY) !== 0 ? header.toString('utf8', FIXED) : undefined,
  };
}

/** The topic named by a topic frame, or undefined when it does not end in NUL. */
export function decodeTopic(frame: Uint8Array): string | undefined {
  if (frame.byteLength === 0 || frame[frame.byteLength - 1] !== 0) return undefined;
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength - 1).toString('utf8');
}
