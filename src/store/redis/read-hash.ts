import { checksum, checksumHasher, type ChecksumHasher } from '../../wire/checksum.js';

/**
 * The checksum of an object as its reads land, fed while each socket read is still in cache. Pieces
 * must come in the order of their place in the object; a piece out of order, a read that skipped it or
 * a {@link spoil}ed one makes {@link result} hash the bytes again instead, so it is never wrong.
 */
export class ReadHash {
  /** Made at the first piece: a read that feeds none (on ioredis) makes no hasher. */
  #hasher: ChecksumHasher | undefined;
  #hashed = 0;
  #usable = true;

  /** A listener for the piece of the object that starts at byte `start`. */
  piece(start: number): (bytes: Uint8Array) => void {
    let at = start;
    return (bytes) => {
      if (at !== this.#hashed) this.#usable = false;
      if (!this.#usable) return;
      (this.#hasher ??= checksumHasher()).update(bytes);
      at += bytes.byteLength;
      this.#hashed = at;
    };
  }

  /** The bytes returned are not the ones fed (a read fell back to another path). */
  spoil(): void {
    this.#usable = false;
  }

  /** The checksum of `bytes`: the one fed when every byte of them came through in order, else hashed now. */
  result(bytes: Uint8Array): string {
    return this.#usable && this.#hasher !== undefined && this.#hashed === bytes.byteLength ? this.#hasher.digest() : checksum(bytes);
  }
}
