/**
 * Partition ownership, driven through interleavings chosen by fast-check's
 * scheduler: up to four nodes join at different moments, balance (heartbeat,
 * renew, take, offer) and publish versions, while the clock moves, some
 * freeze past their lease and wake up publishing under the epochs they held,
 * some die with their leases held, and some leave cleanly. Every store
 * operation lands when the scheduler says, so a node may act on a read that
 * is stale by the time its write arrives. Whatever the order:
 *
 * - each (partition, epoch) has one owner, in the records written and in
 *   what the nodes believe they hold, and a partition's epochs only go up;
 * - a lease is taken from another owner only when offered, or after that
 *   owner's record stayed unchanged for a lease time, and by then the owner
 *   itself counts the lease as gone;
 * - every publish landed on a record of its own epoch, and every publish
 *   under an epoch that had moved was refused (`partition_fenced`): after a
 *   freeze, or at the end of a long job that began under it;
 * - once the surviving nodes keep running, every partition is owned by the
 *   node the assignment names, each node owning ⌊P/N⌋ or ⌈P/N⌉.
 *
 * Then the same take, renew, expiry, fence, handover and release, once in
 * memory and once on a real JetStream KV bucket.
 */
import { Kvm } from '@nats-io/kv';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PartitionFencedError, PartitionNotOwnedError, PartitionVersionStaleError } from '../../../src/backends/nats/errors.ts';
import { KvRevisionedStore } from '../../../src/backends/nats/kv-revisioned-store.ts';
import { assignPartitions, targetsOf } from '../../../src/backends/nats/partition-assignment.ts';
import { PartitionBalancer, type BalanceReport } from '../../../src/backends/nats/partition-balancer.ts';
import { epochOf, partitionLeaseBucket, partitionLeaseKey, sameOwner, type PartitionLease } from '../../../src/backends/nats/partition-lease-record.ts';
import { PARTITION_LEASE_SHAPE, PartitionLeases } from '../../../src/backends/nats/partition-leases.ts';
import { MemoryRevisionedStore, type Revisioned, type RevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';

const P = 6;
const LEASE_MS = 900;
const NAMES = ['n0', 'n1', 'n2', 'n3'] as const;

interface Clock {
  now: number;
}

/** A write that landed: the record before it and after it, and the clock then. */
interface Write {
  readonly partition: number;
  readonly before: Revisioned<PartitionLease> | undefined;
  readonly after: Revisioned<PartitionLease>;
  readonly at: number;
}

/**
 * A {@link MemoryRevisionedStore} whose every operation waits for the
 * scheduler (while it has one), and which hands every write that landed to
 * `onWrite` at the moment it lands: operations run one at a time past the
 * scheduler, so "the record before" is the one the write replaced.
 */
class ScheduledStore implements RevisionedStore<PartitionLease> {
  scheduler: fc.Scheduler | undefined;
  readonly #inner = new MemoryRevisionedStore<PartitionLease>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly clock: Clock, private readonly onWrite: (write: Write) => void) {}

  get(key: string): Promise<Revisioned<PartitionLease> | undefined> {
    return this.#op(`get ${key}`, () => this.#inner.get(key));
  }

  revision(key: string): Promise<number | undefined> {
    return this.#op(`revision ${key}`, () => this.#inner.revision(key));
  }

  create(key: string, value: PartitionLease): Promise<number | undefined> {
    return this.#op(`create ${key}`, () => this.#write(key, value, () => this.#inner.create(key, value)));
  }

  update(key: string, value: PartitionLease, revision: number): Promise<number | undefined> {
    return this.#op(`update ${key}@${revision}`, () => this.#write(key, value, () => this.#inner.update(key, value, revision)));
  }

  /** The record as it is now, outside the schedule. */
  peek(partition: number): Promise<Revisioned<PartitionLease> | undefined> {
    return this.#locked(() => this.#inner.get(partitionLeaseKey(partition)));
  }

  async #op<T>(label: string, run: () => Promise<T>): Promise<T> {
    if (this.scheduler !== undefined) await this.scheduler.schedule(Promise.resolve(), label);
    return this.#locked(run);
  }

  #locked<T>(run: () => Promise<T>): Promise<T> {
    const done = this.#lock.then(run);
    this.#lock = done.catch(() => undefined);
    return done;
  }

  async #write(key: string, value: PartitionLease, write: () => Promise<number | undefined>): Promise<number | undefined> {
    const before = await this.#inner.get(key);
    const revision = await write();
    if (revision !== undefined) this.onWrite({ partition: Number(key.split('.')[1]), before, after: { value, revision }, at: this.clock.now });
    return revision;
  }
}

type Step =
  | { readonly kind: 'tick' }
  | { readonly kind: 'publish' }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'freeze'; readonly ms: number }
  | { readonly kind: 'begin' }
  | { readonly kind: 'finish' }
  | { readonly kind: 'die' }
  | { readonly kind: 'leave' };

interface Script {
  /** Scheduler turns before the node starts: a later join. */
  readonly joinAfter: number;
  readonly steps: readonly Step[];
}

const step = (mortal: boolean): fc.Arbitrary<Step> => fc.oneof(
  { weight: 6, arbitrary: fc.constant<Step>({ kind: 'tick' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'publish' }) },
  { weight: 3, arbitrary: fc.integer({ min: 50, max: 2 * LEASE_MS }).map<Step>((ms) => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.integer({ min: LEASE_MS / 2, max: 3 * LEASE_MS }).map<Step>((ms) => ({ kind: 'freeze', ms })) },
  // A long job (a batch cycle) remembers the epochs it started under and publishes under them at its end, whatever happened between.
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'begin' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'finish' }) },
  // Node n0 never dies or leaves, so that someone is left to own the partitions.
  { weight: mortal ? 1 : 0, arbitrary: fc.constantFrom<Step>({ kind: 'die' }, { kind: 'leave' }) },
);

const scripts = fc.tuple(...NAMES.map((_, i) => fc.record({ joinAfter: fc.nat({ max: 30 }), steps: fc.array(step(i > 0), { maxLength: 14 }) })));

interface Node {
  readonly name: string;
  readonly leases: PartitionLeases;
  readonly balancer: PartitionBalancer;
  /** What it applied without owning in its last step (followed or stood by for): what `caughtUp` reads. */
  applying: ReadonlySet<number>;
  last: BalanceReport | undefined;
  /** The epochs a job began under: published under at its end. */
  job: ReadonlyMap<number, number>;
  alive: boolean;
}

/** What the runs exercised, summed over all of them. */
const seen = { runs: 0, takesByExpiry: 0, takesByOffer: 0, publishes: 0, fencedPublishes: 0, stalePublishes: 0 };

/** One run: the nodes, the store, the clock, and the checks made at every write and every step. */
class Run {
  readonly clock: Clock = { now: 1_000_000 };
  readonly store = new ScheduledStore(this.clock, (write) => this.#checkWrite(write));
  readonly nodes = new Map<string, Node>();
  readonly #beats = new Map<string, number>();
  readonly #epochOwner = new Map<string, string>();
  readonly #lastEpoch = new Map<number, number>();
  readonly #writtenAt = new Map<number, number>();
  #version = 0;

  constructor(readonly standbys: number) {}

  join(name: string): Node {
    const leases = new PartitionLeases(this.store, { node: name, instance: name, leaseMs: LEASE_MS, now: () => this.clock.now });
    const node: Node = { name, leases, balancer: new PartitionBalancer(leases, { partitions: P, standbys: this.standbys }), applying: new Set(), last: undefined, job: new Map(), alive: true };
    this.nodes.set(name, node);
    return node;
  }

  /** A heartbeat, then a balancing step over the nodes heard from within a lease time. */
  async tick(node: Node): Promise<void> {
    this.#beats.set(node.name, this.clock.now);
    const live = [...this.#beats].filter(([, at]) => this.clock.now - at < LEASE_MS).map(([name]) => name);
    node.last = await node.balancer.step({ live, caughtUp: (p, name) => this.nodes.get(name)?.applying.has(p) ?? false });
    node.applying = new Set([...node.last.follow, ...node.last.standby]);
    assert.deepEqual(node.last.failed, []);
  }

  /** Publishes a new version of `partition` under `epoch`; a refusal must be a fence or a version overtaken, and a fence must be real. */
  async publish(node: Node, partition: number, epoch: number): Promise<void> {
    const outcome = await node.leases.publish(partition, epoch, { version: ++this.#version, cutoff: this.#version }).then(() => undefined, (error: unknown) => error);
    seen.publishes++;
    if (outcome === undefined || outcome instanceof PartitionVersionStaleError) return;
    assert.ok(outcome instanceof PartitionFencedError, String(outcome));
    seen.fencedPublishes++;
    const now = await this.store.peek(partition);
    assert.ok(now === undefined || !sameOwner(now.value.owner, { node: node.name, instance: node.name }) || epochOf(now) !== epoch, 'refused while the lease was still this epoch');
  }

  /** Publishes under the epochs a job began under (or a freeze came upon): each one that moved meanwhile must be refused. */
  async publishRemembered(node: Node, held: ReadonlyMap<number, number>): Promise<void> {
    for (const [partition, epoch] of held) {
      const now = await this.store.peek(partition);
      const moved = now === undefined || !sameOwner(now.value.owner, { node: node.name, instance: node.name }) || epochOf(now) !== epoch;
      if (!moved) {
        await this.publish(node, partition, epoch);
        continue;
      }
      seen.stalePublishes++;
      await assert.rejects(node.leases.publish(partition, epoch, { version: ++this.#version, cutoff: 0 }), PartitionFencedError, `a publish under moved epoch ${epoch} of partition ${partition}`);
    }
  }

  /** No (partition, epoch) is held by two nodes at once. */
  checkBeliefs(): void {
    const holders = new Map<string, string>();
    for (const node of this.nodes.values()) {
      for (const [partition, epoch] of node.leases.held()) {
        const key = `${partition}@${epoch}`;
        assert.ok(!holders.has(key), `${node.name} and ${holders.get(key)} both hold partition ${partition} under epoch ${epoch}`);
        holders.set(key, node.name);
      }
    }
  }

  #checkWrite(write: Write): void {
    const { partition, before, after, at } = write;
    this.#writtenAt.set(after.revision, at);
    const owner = after.value.owner;
    if (owner !== null) this.#checkEpoch(partition, epochOf(after), owner.node);
    if (owner !== null && before?.value.owner != null && !sameOwner(before.value.owner, owner)) this.#checkTake(write, owner.node);
    const published = after.value.published;
    if (published !== null && published.version !== before?.value.published?.version) {
      assert.ok(before !== undefined && owner !== null && sameOwner(before.value.owner, owner), `partition ${partition}: a version published over another owner's record`);
      assert.equal(epochOf(before), published.epoch, `partition ${partition}: a version published under epoch ${published.epoch} over a record of epoch ${epochOf(before)}`);
      assert.ok(published.version > (before.value.published?.version ?? 0), 'versions only go up');
    }
  }

  #checkEpoch(partition: number, epoch: number, owner: string): void {
    const key = `${partition}@${epoch}`;
    assert.equal(this.#epochOwner.get(key) ?? owner, owner, `partition ${partition}: epoch ${epoch} written by two owners`);
    this.#epochOwner.set(key, owner);
    assert.ok(epoch >= (this.#lastEpoch.get(partition) ?? 0), `partition ${partition}: epoch ${epoch} after ${this.#lastEpoch.get(partition)}`);
    this.#lastEpoch.set(partition, epoch);
  }

  /** A take from another owner: offered to the taker, or the owner silent for a lease time and knowing it. */
  #checkTake({ partition, before, at }: Write, taker: string): void {
    if (before!.value.moveTo === taker) {
      seen.takesByOffer++;
      return;
    }
    seen.takesByExpiry++;
    const silentMs = at - this.#writtenAt.get(before!.revision)!;
    assert.ok(silentMs >= LEASE_MS, `partition ${partition} taken by ${taker} from an owner silent for only ${silentMs} ms`);
    const previous = this.nodes.get(before!.value.owner!.node)!;
    assert.equal(previous.leases.epochOf(partition), undefined, `partition ${partition} taken by ${taker} while ${previous.name} still counts its lease as running`);
  }

  async runScript(name: string, script: Script, s: fc.Scheduler): Promise<void> {
    for (let i = 0; i < script.joinAfter; i++) await s.schedule(Promise.resolve(), `${name} not yet started`);
    const node = this.join(name);
    for (const st of script.steps) {
      if (st.kind === 'die' || st.kind === 'leave') {
        if (st.kind === 'leave') await node.leases.release();
        node.alive = false;
        return;
      }
      await this.#act(node, st, s);
      this.checkBeliefs();
    }
  }

  async #act(node: Node, st: Step, s: fc.Scheduler): Promise<void> {
    if (st.kind === 'tick') await this.tick(node);
    else if (st.kind === 'advance') this.clock.now += st.ms;
    else if (st.kind === 'publish') await Promise.all([...node.leases.held()].map(([p, epoch]) => this.publish(node, p, epoch)));
    else if (st.kind === 'begin') node.job = node.leases.held();
    else if (st.kind === 'finish') await this.publishRemembered(node, node.job);
    else if (st.kind === 'freeze') {
      const held = node.leases.held();
      this.clock.now += st.ms;
      // Frozen: the others get turns while this node does nothing; then it wakes and publishes under what it held.
      for (let i = 0; i < 5; i++) await s.schedule(Promise.resolve(), `${node.name} frozen`);
      await this.publishRemembered(node, held);
    }
  }

  /** The survivors keep running without the scheduler until every partition is owned as assigned; resolves with the rounds it took. */
  async settle(): Promise<number> {
    this.store.scheduler = undefined;
    const survivors = [...this.nodes.values()].filter((node) => node.alive);
    for (let round = 1; round <= 40; round++) {
      this.clock.now += survivors[0]!.leases.renewEveryMs;
      for (const node of survivors) await this.tick(node);
      this.checkBeliefs();
      if (await this.#settled(survivors)) return round;
    }
    assert.fail(`not settled after 40 rounds: ${JSON.stringify(await this.#ownership(), null, 1)}`);
  }

  async #settled(survivors: readonly Node[]): Promise<boolean> {
    const assignment = assignPartitions(survivors.map((node) => node.name), P, this.standbys);
    const owners = await this.#ownership();
    if (owners.some((owner, p) => owner !== assignment.owners[p])) return false;
    for (const node of survivors) {
      const targets = targetsOf(assignment, node.name);
      // Its last step may still have seen a node that died since: then its standbys are the next step's.
      if (!sameSet([...node.leases.held().keys()], targets.owned) || !sameSet(node.last?.standby ?? [], targets.standby)) return false;
    }
    return true;
  }

  /** Per partition, the node its record names as owner. */
  async #ownership(): Promise<(string | null)[]> {
    return Promise.all(Array.from({ length: P }, async (_, p) => (await this.store.peek(p))?.value.owner?.node ?? null));
  }
}

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x) => b.includes(x));

test('partition leases - one owner per epoch, fenced publishes refused, and every partition owned as assigned once nodes are stable', async (t) => {
  const started = performance.now();
  let settleRounds = 0;
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), scripts, fc.integer({ min: 0, max: 1 }), async (s, plan, standbys) => {
      const run = new Run(standbys);
      run.store.scheduler = s;
      await s.waitFor(Promise.all(plan.map((script, i) => run.runScript(NAMES[i]!, script, s))));
      settleRounds = Math.max(settleRounds, await run.settle());
      const survivors = [...run.nodes.values()].filter((node) => node.alive);
      const counts = survivors.map((node) => node.leases.held().size);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `owned ${counts} over ${survivors.length} nodes`);
      seen.runs++;
    }),
    { seed: 2026_12_03, numRuns: 300 },
  );
  t.diagnostic(`${seen.runs} runs in ${Math.round(performance.now() - started)} ms; at most ${settleRounds} rounds to settle; ${JSON.stringify(seen)}`);
  // The runs must have reached the cases the property is about.
  assert.ok(seen.takesByExpiry > 50 && seen.takesByOffer > 50 && seen.stalePublishes > 20 && seen.fencedPublishes > 5, JSON.stringify(seen));
});

/** Two nodes' leases over one bucket, and the clock they share. */
interface Pair {
  readonly a: PartitionLeases;
  readonly b: PartitionLeases;
  readonly clock: Clock;
}

/** Take, renew, expire, fence, publish, hand over and release, on whatever store the two nodes share. */
async function leaseLifecycle({ a, b, clock }: Pair): Promise<void> {
  const e1 = await a.take(0);
  assert.ok(e1 !== undefined);
  assert.equal(await b.take(0), undefined, 'a lease renewed within a lease time is not taken');
  clock.now += 500;
  assert.deepEqual(await a.renew(), { lost: [], failed: [] });
  assert.equal(a.epochOf(0), e1, 'a renewal keeps the epoch');
  assert.equal((await b.inspect(0)).takeable, null, 'the renewal moved the revision, so b watches it afresh');
  clock.now += 1_000;
  assert.equal(a.epochOf(0), undefined, 'a counts its lease as run out before b can take it');
  const e2 = await b.take(0);
  assert.ok(e2 !== undefined && e2 > e1, `epochs go up: ${e1} then ${e2}`);

  assert.deepEqual(await a.renew(), { lost: [0], failed: [] });
  await assert.rejects(a.fence(0, e1), (error: unknown) => error instanceof PartitionFencedError && /node b holds it under epoch/.test(error.message));
  await assert.rejects(a.publish(0, e1, { version: 1, cutoff: 10 }), PartitionFencedError);
  await b.publish(0, e2, { version: 1, cutoff: 10 });
  await assert.rejects(b.publish(0, e2, { version: 1, cutoff: 11 }), PartitionVersionStaleError);
  await assert.rejects(a.handOver(0, 'b'), PartitionNotOwnedError);

  assert.equal(await b.handOver(0, 'a'), true);
  const e3 = await a.take(0);
  assert.ok(e3 !== undefined && e3 > e2, 'an offered partition is taken at once');
  await assert.rejects(a.publish(0, e1, { version: 2, cutoff: 20 }), PartitionFencedError, 'a node that holds a partition again cannot publish under its earlier epoch');
  assert.equal(b.epochOf(0), e2, 'the old owner serves until it sees the lease gone');
  assert.deepEqual(await b.renew(), { lost: [0], failed: [] });
  assert.deepEqual((await a.inspect(0)).entry?.value.published, { version: 1, cutoff: 10, epoch: e2 }, 'the published version moves with the lease');
  await a.publish(0, e3, { version: 2, cutoff: 20 });

  assert.deepEqual(await a.release(), { released: [0], failed: [] });
  assert.equal(a.epochOf(0), undefined);
  const e4 = await b.take(0);
  assert.ok(e4 !== undefined && e4 > e3, 'a released partition is free at once');
  await assert.rejects(a.publish(0, e3, { version: 3, cutoff: 30 }), /its lease was released|node b holds it/);
}

/** Both nodes take partitions 1 to 4 at once: exactly one wins each. */
async function races({ a, b }: Pair): Promise<void> {
  for (let p = 1; p <= 4; p++) {
    const won = await Promise.all([a.take(p), b.take(p)]);
    assert.equal(won.filter((epoch) => epoch !== undefined).length, 1, `partition ${p}: ${won}`);
  }
}

const pairOver = (storeOf: (node: string) => RevisionedStore<PartitionLease>): Pair => {
  const clock = { now: 1_000_000 };
  const leases = (node: string) => new PartitionLeases(storeOf(node), { node, leaseMs: 1_000, now: () => clock.now });
  return { a: leases('a'), b: leases('b'), clock };
};

test('partition leases - take, renew, expire, fence, hand over and release, in memory', async () => {
  const store = new MemoryRevisionedStore<PartitionLease>();
  const pair = pairOver(() => store);
  await leaseLifecycle(pair);
  await races(pair);
});

test('partition leases - a lease counts from when its renewal was sent, not from when the answer came', async () => {
  const clock = { now: 1_000_000 };
  const inner = new MemoryRevisionedStore<PartitionLease>();
  // Each write is answered 600 ms after it landed, as over a slow connection.
  const slow: RevisionedStore<PartitionLease> = {
    get: (key) => inner.get(key),
    revision: (key) => inner.revision(key),
    create: async (key, value) => inner.create(key, value).finally(() => { clock.now += 600; }),
    update: async (key, value, revision) => inner.update(key, value, revision).finally(() => { clock.now += 600; }),
  };
  const a = new PartitionLeases(slow, { node: 'a', leaseMs: 1_000, now: () => clock.now });
  const b = new PartitionLeases(inner, { node: 'b', leaseMs: 1_000, now: () => clock.now });
  await a.take(0);
  await b.inspect(0);
  const sent = clock.now;
  await a.renew();
  assert.equal((await b.inspect(0)).unchangedMs, 0, 'b watches the renewed record afresh from when it reads it, 600 ms after it was sent');
  clock.now = sent + 1_000;
  assert.equal(a.epochOf(0), undefined, 'a lease time after the renewal was sent, its sender no longer counts on it');
  const seenByB = await b.inspect(0);
  assert.deepEqual([seenByB.unchangedMs, seenByB.takeable], [400, null], 'while the others cannot take it yet');
});

test('partition leases - a node that stops renewing loses each partition to its standby, one to five thirds of a lease time after its last renewal', async (t) => {
  const clock = { now: 1_000_000 };
  const store = new MemoryRevisionedStore<PartitionLease>();
  const nodes = ['n0', 'n1', 'n2'].map((node) => {
    const leases = new PartitionLeases(store, { node, leaseMs: 1_200, now: () => clock.now });
    return { node, leases, balancer: new PartitionBalancer(leases, { partitions: 6, standbys: 1 }) };
  });
  const beats = new Map<string, number>();
  const round = async (running: typeof nodes) => {
    clock.now += 400;
    for (const { node, balancer } of running) {
      beats.set(node, clock.now);
      const live = [...beats].filter(([, at]) => clock.now - at < 1_200).map(([name]) => name);
      await balancer.step({ live, caughtUp: () => true });
    }
  };
  for (let i = 0; i < 6; i++) await round(nodes);
  const assignment = nodes[0]!.balancer.assignment(['n0', 'n1', 'n2']);
  const frozen = nodes[2]!;
  const lastRenewal = clock.now;
  const orphans = [...frozen.leases.held().keys()];
  assert.deepEqual(orphans, targetsOf(assignment, 'n2').owned);
  const takenAt = new Map<number, number>();
  while (takenAt.size < orphans.length && clock.now - lastRenewal < 10_000) {
    await round(nodes.slice(0, 2));
    for (const p of orphans) {
      const owner = (await store.get(partitionLeaseKey(p)))?.value.owner?.node;
      if (owner !== 'n2' && !takenAt.has(p)) {
        assert.equal(owner, assignment.standbys[p]![0], `partition ${p} goes to its standby, which already applies it`);
        takenAt.set(p, clock.now - lastRenewal);
      }
    }
  }
  t.diagnostic(`taken ${[...takenAt.values()].join(', ')} ms after the last renewal, with a lease of 1200 ms renewed every 400 ms`);
  for (const [p, ms] of takenAt) assert.ok(ms >= 1_200 && ms <= 2_000, `partition ${p} taken ${ms} ms after the last renewal`);
  assert.equal(takenAt.size, orphans.length);
});

const skip = natsSkipReason();

describe('partition leases on JetStream KV', { skip, timeout: 120_000 }, () => {
  const suite = clusterForSuite();

  test('partition leases - take, renew, expire, fence, hand over and release over separate connections, and a garbage record is written over', async () => {
    // One replica: on nats-server 2.9.10 a replicated bucket's compare-and-set let two
    // racing writers both win (docs/cluster.md), and a lease two nodes can win fences nothing.
    const bucket = partitionLeaseBucket('leases');
    const stores = new Map<string, RevisionedStore<PartitionLease>>();
    for (const node of ['a', 'b']) {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      stores.set(node, await KvRevisionedStore.open(nc, { bucket, replicas: 1 }, PARTITION_LEASE_SHAPE));
    }
    const pair = pairOver((node) => stores.get(node)!);
    await leaseLifecycle(pair);
    await races(pair);

    const kv = await new Kvm(await suite.connect({ servers: suite.cluster.urls })).open(bucket);
    await kv.put(partitionLeaseKey(5), 'garbage{');
    assert.equal((await pair.a.inspect(5)).takeable, null, 'a record that is not valid is waited out like a silent owner');
    pair.clock.now += 1_000;
    const epoch = await pair.a.take(5);
    assert.ok(epoch !== undefined, 'and written over after a lease time');
    await kv.put(partitionLeaseKey(5), '{}');
    await assert.rejects(pair.a.publish(5, epoch, { version: 1, cutoff: 1 }), /lease record is not valid/);
  });
});

test('partition leases - an owner unable to serve a partition hands it to the node that would own it without it, takes none such, and gets it back once able', async () => {
  const clock = { now: 1_000_000 };
  const store = new MemoryRevisionedStore<PartitionLease>();
  const unable = new Set<number>();
  const nodes = ['n0', 'n1', 'n2'].map((node) => {
    const leases = new PartitionLeases(store, { node, leaseMs: 1_200, now: () => clock.now });
    return { node, leases, balancer: new PartitionBalancer(leases, { partitions: 6 }) };
  });
  const ownerOf = async (p: number) => (await store.get(partitionLeaseKey(p)))?.value.owner?.node;
  const round = async () => {
    clock.now += 400;
    for (const { node, balancer } of nodes) {
      await balancer.step({ live: ['n0', 'n1', 'n2'], caughtUp: () => true, ...(node === 'n0' ? { unable: (p: number) => unable.has(p) } : {}) });
    }
  };
  for (let i = 0; i < 6; i++) await round();
  const all = nodes[0]!.balancer.assignment(['n0', 'n1', 'n2']);
  const p = targetsOf(all, 'n0').owned[0]!;
  assert.equal(await ownerOf(p), 'n0');
  const without = nodes[1]!.balancer.assignment(['n1', 'n2'], false).owners[p]!;
  unable.add(p);
  for (let i = 0; i < 3; i++) await round();
  assert.equal(await ownerOf(p), without, `partition ${p} went to ${without}, which would own it without n0`);
  for (let i = 0; i < 6; i++) await round();
  assert.equal(await ownerOf(p), without, 'n0 takes none it cannot serve, though it is assigned to it');
  unable.delete(p);
  for (let i = 0; i < 3; i++) await round();
  assert.equal(await ownerOf(p), 'n0', 'once able again, it is offered back to n0');
  for (const q of [0, 1, 2, 3, 4, 5]) assert.equal(await ownerOf(q), all.owners[q], `partition ${q} as assigned`);
});
