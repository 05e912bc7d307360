import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommitNote, encodeCommitNote, noteMetadata } from '../../src/broker-adapters/kafka/commit-note.js';
import { OffsetTracker } from '../../src/broker-adapters/kafka/offset-tracker.js';
import { PartitionState } from '../../src/broker-adapters/kafka/partition-state.js';
import { parseOffsetSpec } from '../../src/broker-adapters/kafka/start-position.js';

/** Offsets with gaps (compaction, control records), and an order in which a subset of them is settled. */
const scenario = fc
  .tuple(fc.nat(1_000), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 60 }))
  .map(([start, gaps]) => {
    const offsets: number[] = [];
    let next = start;
    for (const gap of gaps) offsets.push((next += gap));
    return { start, offsets };
  })
  .chain(({ start, offsets }) => fc.record({ start: fc.constant(start), offsets: fc.constant(offsets), acks: fc.shuffledSubarray(offsets) }));

describe('OffsetTracker', () => {
  it('commits exactly the contiguous settled prefix, whatever the ack order', () => {
    fc.assert(
      fc.property(scenario, ({ start, offsets, acks }) => {
        const tracker = new OffsetTracker(start);
        for (const offset of offsets) expect(tracker.track(offset)).toBe(true);
        const settled = new Set<number>();
        let previous = tracker.committable();
        for (const offset of acks) {
          expect(tracker.settle(offset)).toBe(true);
          expect(tracker.settle(offset)).toBe(false);
          settled.add(offset);
          const committable = tracker.committable();
          const firstOpen = offsets.find((o) => !settled.has(o));
          expect(committable).toBe(firstOpen ?? offsets.at(-1)! + 1);
          for (const o of offsets) if (o < committable) expect(settled.has(o)).toBe(true);
          expect(committable).toBeGreaterThanOrEqual(previous);
          previous = committable;
        }
        expect(tracker.openCount).toBe(offsets.length - settled.size);
      }),
    );
  });

  it('refuses offsets at or below what it already tracked and ignores unknown settles', () => {
    const tracker = new OffsetTracker(10);
    expect(tracker.track(9)).toBe(false);
    expect(tracker.committable()).toBe(10);
    expect(tracker.track(10)).toBe(true);
    expect(tracker.track(10)).toBe(false);
    expect(tracker.settle(11)).toBe(false);
    expect(tracker.isOpen(10)).toBe(true);
    expect(tracker.settle(10)).toBe(true);
    expect(tracker.committable()).toBe(11);
  });
});

describe('commit notes and start offsets', () => {
  it('round-trips notes and treats foreign metadata as empty', () => {
    fc.assert(
      fc.property(fc.record({ eos: fc.nat(), delivered: fc.nat(), headCount: fc.nat() }, { requiredKeys: [] }), (note) => {
        expect(decodeCommitNote(encodeCommitNote(note))).toEqual(note);
      }),
    );
    for (const foreign of [null, undefined, '', 'hello', 'ps1:', 'ps1:[1]', 'ps1:{"e":-1,"d":"x"}']) expect(decodeCommitNote(foreign)).toEqual({});
  });

  it('reads a note written by librdkafka (the Python client), which ends commit metadata with a NUL', () => {
    expect(decodeCommitNote(`${encodeCommitNote({ eos: 7, delivered: 9, headCount: 2 })}\u0000`)).toEqual({ eos: 7, delivered: 9, headCount: 2 });
  });

  it('commits notes ending with a NUL, as librdkafka does (confluent-kafka reads committed metadata as a C string)', () => {
    const state = new PartitionState('t', 0, { committed: 0, metadata: null });
    state.track(0);
    state.delivered(0, 1);
    const commit = state.pendingCommit();
    expect(commit).toEqual({ offset: 0, metadata: 'ps1:{"d":0,"h":1}\u0000' });
    state.committed(commit!);
    expect(state.pendingCommit()).toBeUndefined();
    // Read back by the next owner, NUL and all (as librdkafka's own commits are): the count carries on.
    const next = new PartitionState('t', 0, { committed: 0, metadata: commit!.metadata });
    next.track(0);
    expect(next.nextCount(0)).toBe(2);
    next.delivered(0, 2);
    expect(next.pendingCommit()?.metadata).toBe('ps1:{"d":0,"h":2}\u0000');
  });

  it("keeps the group's head count in its commits until the message is delivered again", () => {
    // The previous member delivered offset 4 twice and left it unacked; this member takes over and settles 5 only.
    const state = new PartitionState('t', 0, { committed: 4, metadata: noteMetadata({ delivered: 5, headCount: 2 }) });
    state.track(4);
    state.track(5);
    state.delivered(5, 2);
    state.settle(5);
    // Nothing to commit: the group's note, head count included, still holds (dropping it would undercount).
    expect(state.pendingCommit()).toBeUndefined();
    expect(state.nextCount(4)).toBe(3);
    state.delivered(4, 3);
    expect(decodeCommitNote(state.pendingCommit()?.metadata)).toEqual({ delivered: 5, headCount: 3 });
  });

  it('parses offset, partition:offset and lists', () => {
    expect([...parseOffsetSpec('5', [0, 1, 2])]).toEqual([[0, 5], [1, 5], [2, 5]]);
    expect([...parseOffsetSpec('1:42', [0, 1])]).toEqual([[1, 42]]);
    expect([...parseOffsetSpec('0:1, 2:3', [0, 1, 2])]).toEqual([[0, 1], [2, 3]]);
    expect(() => parseOffsetSpec('x', [0])).toThrow(/invalid Kafka start offset/);
  });
});
