import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReadHash } from '../../src/store/redis/read-hash.js';
import { checksum } from '../../src/wire/checksum.js';

describe('ReadHash (RedisStore.getVerified)', () => {
  const data = randomBytes(10_000);

  it('digests pieces fed in order, across several listeners', () => {
    const hash = new ReadHash();
    const first = hash.piece(0);
    first(data.subarray(0, 1000));
    first(data.subarray(1000, 4000));
    hash.piece(4000)(data.subarray(4000));
    expect(hash.result(data)).toBe(checksum(data));
    // It does not hash again: the digest is of the bytes fed, which the store returns.
    expect(hash.result(Buffer.alloc(data.length))).toBe(checksum(data));
  });

  it('hashes the bytes again when a piece came out of order, bytes were skipped, or it was spoiled', () => {
    const outOfOrder = new ReadHash();
    outOfOrder.piece(4000)(data.subarray(4000));
    outOfOrder.piece(0)(data.subarray(0, 4000));
    expect(outOfOrder.result(data)).toBe(checksum(data));

    const skipped = new ReadHash();
    skipped.piece(0)(data.subarray(0, 4000));
    expect(skipped.result(data)).toBe(checksum(data));

    const other = randomBytes(10_000);
    const spoiled = new ReadHash();
    spoiled.piece(0)(data);
    spoiled.spoil();
    expect(spoiled.result(other)).toBe(checksum(other));
  });
});
