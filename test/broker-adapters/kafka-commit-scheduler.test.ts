import { describe, expect, it } from 'vitest';
import { CommitScheduler } from '../../src/broker-adapters/kafka/commit-scheduler.js';
import type { GroupConsumerDriver, OffsetCommit } from '../../src/broker-adapters/kafka/driver.js';
import { PartitionState } from '../../src/broker-adapters/kafka/partition-state.js';

// The scheduler's own logic (what it commits, when it tries again): the group member under it is a
// scripted stand-in whose commit fails as a busy coordinator's would. The real member is covered by
// the Kafka conformance suite against the test server.

/** A group member whose first `failures` commits reject. */
function member(failures: number): GroupConsumerDriver & { commits: OffsetCommit[][]; attempts: number } {
  const driver = {
    commits: [] as OffsetCommit[][],
    attempts: 0,
    start: async () => undefined,
    place: () => undefined,
    close: async () => undefined,
    commit: async (offsets: OffsetCommit[]) => {
      driver.attempts += 1;
      if (driver.attempts <= failures) throw new Error('COORDINATOR_LOAD_IN_PROGRESS');
      driver.commits.push(offsets);
    },
  };
  return driver;
}

/** A partition where offset 0 was delivered once and is still open: its note must reach the group. */
function openPartition(): PartitionState {
  const state = new PartitionState('t', 0, { committed: -1, metadata: null });
  state.track(0);
  state.delivered(0, 1);
  return state;
}

function scheduler(consumer: GroupConsumerDriver, state: PartitionState, epoch = () => 1) {
  const closing = new AbortController();
  closing.abort();
  return new CommitScheduler({ consumer: () => consumer, states: () => [state], epoch, closing: closing.signal });
}

describe('CommitScheduler.finish (a closing member’s last commit)', () => {
  it('tries a failed commit again until the group accepts it', async () => {
    const consumer = member(2);
    const state = openPartition();
    await scheduler(consumer, state).finish(5_000);
    expect(consumer.attempts).toBe(3);
    expect(consumer.commits).toHaveLength(1);
    expect(consumer.commits[0]![0]).toMatchObject({ topic: 't', partition: 0, offset: 0 });
    expect(state.pendingCommit()).toBeUndefined();
  });

  it('gives up after its timeout, without throwing', async () => {
    const consumer = member(Number.POSITIVE_INFINITY);
    const started = Date.now();
    await scheduler(consumer, openPartition()).finish(300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(consumer.attempts).toBeGreaterThanOrEqual(2);
  });

  it('stops when the generation changes (the partitions are another member’s now)', async () => {
    const consumer = member(Number.POSITIVE_INFINITY);
    let epoch = 1;
    const finishing = scheduler(consumer, openPartition(), () => epoch).finish(5_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    epoch = 2;
    const started = Date.now();
    await finishing;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(consumer.commits).toHaveLength(0);
  });
});

describe('CommitScheduler.schedule', () => {
  it('commits what is scheduled in the very turn its previous commit ends', async () => {
    const consumer = member(0);
    const state = openPartition();
    const commits = scheduler(consumer, state);
    let scheduledAgain = false;
    // `current` runs on every wake-up of the waiter, in the turn the first commit ends: it settles
    // offset 0 there and schedules its commit before the commit loop has wound down.
    const waiting = commits.committed(state, -1, () => {
      if (state.committedOffset > -1 && !scheduledAgain) {
        scheduledAgain = true;
        state.settle(0);
        commits.schedule();
      }
      return true;
    });
    commits.schedule();
    expect(await waiting).toBe(true);
    for (let waited = 0; consumer.commits.length < 2 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(consumer.commits.map((offsets) => offsets[0]!.offset)).toEqual([0, 1]);
  });
});
