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

/** A scheduler of a closing member (no spacing), or with `intervalMs` of a member still reading. */
function scheduler(consumer: GroupConsumerDriver, state: PartitionState, epoch = () => 1, intervalMs?: number) {
  const closing = new AbortController();
  if (intervalMs === undefined) closing.abort();
  return new CommitScheduler({ consumer: () => consumer, states: () => [state], epoch, closing: closing.signal, intervalMs: intervalMs ?? 0 });
}

/** Commits of `consumer` with the time each was made, ms after `started`. */
function timed(consumer: ReturnType<typeof member>, started: number): Array<{ at: number; offset: number }> {
  const made: Array<{ at: number; offset: number }> = [];
  const commit = consumer.commit;
  consumer.commit = async (offsets) => {
    made.push({ at: Date.now() - started, offset: offsets[0]!.offset });
    await commit(offsets);
  };
  return made;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

describe('CommitScheduler spacing (intervalMs)', () => {
  it('commits at most once per interval: acks settled meanwhile go in the next commit', async () => {
    const consumer = member(0);
    const state = new PartitionState('t', 0, { committed: -1, metadata: null });
    const commits = scheduler(consumer, state, () => 1, 200);
    const made = timed(consumer, Date.now());
    for (let offset = 0; offset < 5; offset += 1) {
      state.track(offset);
      state.settle(offset);
      commits.schedule();
      await sleep(20);
    }
    for (let waited = 0; made.length < 2 && waited < 2_000; waited += 10) await sleep(10);
    await sleep(300);
    expect(made.map((commit) => commit.offset)).toEqual([1, 5]);
    expect(made[1]!.at - made[0]!.at).toBeGreaterThanOrEqual(180);
  });

  it('commits at once on flush (a rebalance or close), not after the interval', async () => {
    const consumer = member(0);
    const state = new PartitionState('t', 0, { committed: -1, metadata: null });
    const commits = scheduler(consumer, state, () => 1, 5_000);
    const started = Date.now();
    const made = timed(consumer, started);
    state.track(0);
    state.settle(0);
    commits.schedule();
    await sleep(20);
    state.track(1);
    state.settle(1);
    commits.schedule();
    await sleep(20);
    await commits.flush();
    expect(made.map((commit) => commit.offset)).toEqual([1, 2]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
