/**
 * The rules of gathering a query's speed layer (`speed-gather.ts`), over a
 * source whose owners and answers each test scripts: partitions held here
 * are read here and nobody is asked; the others are asked of their owners,
 * one ask per owner, to have read as far as this node first; an owner that cannot answer is asked again as
 * ownership moves, and once the wait is over the query is refused naming
 * the partitions and why, or, allowing a partial answer, answered without
 * them; an owner serving a newer batch version makes the gathering stale
 * once this node serves it too. (Real owners over NATS: `divided-speed.test.ts`.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PartitionNotServedError, PartitionsUnavailableError, ShareOwnerUnreachableError, ShareVersionSkewError } from '../../../src/backends/nats/errors.ts';
import type { ShareRequest } from '../../../src/backends/nats/share-messages.ts';
import type { Share } from '../../../src/backends/nats/share-requests.ts';
import { gatherSpeed, type GatherSource } from '../../../src/backends/nats/speed-gather.ts';
import { compileConfig } from '../../../src/definitions/index.ts';
import { encodePartial, partialTable, planQuery, QueryBudget, type Query } from '../../../src/serving/index.ts';
import { shopConfig } from '../../support/shop-config.ts';

const catalog = compileConfig(shopConfig);
const query: Query = { view: 'by_country_hour', groupBy: ['country'] };
const plan = planQuery(catalog, query);
const emptyShare = (): Share => ({ applied: [0, 0, 0, 0], share: encodePartial(partialTable(plan, [], new QueryBudget())) });

type Ask = Omit<ShareRequest, 'from'>;

/** A source of four partitions: `held` here, `owners` as given (changeable), answers from `answer`, every ask recorded. */
function source(options: {
  held: number[];
  owners: (string | null)[];
  answer?: (owner: string, request: Ask) => Promise<Share>;
  waitMs?: number;
}): GatherSource & { asks: { owner: string; request: Ask }[]; owners: (string | null)[]; served: readonly number[] } {
  const asks: { owner: string; request: Ask }[] = [];
  const s = {
    node: 'here',
    asks,
    owners: options.owners,
    served: [10, 20, 30, 40] as readonly number[],
    holds: (p: number) => options.held.includes(p),
    owner: (p: number) => s.owners[p] ?? null,
    cutoffs: () => s.served,
    batchParted: () => false,
    applied: () => [15, 25, 35, 45],
    ask: async (owner: string, request: Ask) => {
      asks.push({ owner, request });
      return (options.answer ?? (async () => emptyShare()))(owner, request);
    },
    askTimeoutMs: 100,
    waitMs: options.waitMs ?? 600,
  };
  return s;
}

describe('gathering the speed layer', () => {
  test('a query whose rows only some partitions can hold asks only their owners: a partition nobody owns elsewhere costs it nothing', async () => {
    const s = source({ held: [0], owners: ['here', 'n1', null, 'n2'] });
    const gathered = await gatherSpeed(s, query, plan, 4, new Set([1]));
    assert.deepEqual(s.asks.map((a) => [a.owner, a.request.partitions]), [['n1', [1]]]);
    assert.deepEqual(gathered.local, [0], 'a partition held here is read whatever it holds: its other rows are filtered out');
    assert.deepEqual(gathered.missing, []);
  });

  test('an owner of a partition that can hold the rows is asked for every partition it owns; one nobody can read that holds none is not missing', async () => {
    const s = source({ held: [], owners: ['n1', 'n1', null, 'n2'], waitMs: 300 });
    const gathered = await gatherSpeed(s, { ...query, allowPartial: true }, planQuery(catalog, { ...query, allowPartial: true }), 4, new Set([1]));
    assert.deepEqual(s.asks.map((a) => [a.owner, a.request.partitions]), [['n1', [0, 1]]], 'n1 is asked for both partitions it holds merged; n2 is not asked');
    assert.deepEqual(gathered.missing, [], 'partition 2, unowned, holds none of the rows');
  });

  test('partitions held here are read here; the others are asked of their owners, one ask per owner, from this node\'s cutoffs', async () => {
    const s = source({ held: [0, 2], owners: ['here', 'n1', 'here', 'n1'] });
    const all = await gatherSpeed(source({ held: [0, 1, 2, 3], owners: [null, null, null, null] }), query, plan, 4);
    assert.deepEqual({ local: all.local, tables: all.tables.length, missing: all.missing, stale: all.stale }, { local: [0, 1, 2, 3], tables: 0, missing: [], stale: false });
    const gathered = await gatherSpeed(s, { ...query, after: [1, 2, 3, 4] }, planQuery(catalog, { ...query, after: [1, 2, 3, 4] }), 4);
    assert.deepEqual(gathered.local, [0, 2]);
    assert.equal(gathered.tables.length, 1);
    assert.deepEqual(s.asks.map((a) => [a.owner, a.request.partitions, a.request.cutoffs, a.request.after, a.request.atLeast]), [['n1', [1, 3], [20, 40], [1, 2, 3, 4], [15, 25, 35, 45]]]);
    assert.equal(gathered.cutoffs, s.served, 'the cutoffs asked from are the served version\'s, by identity');
  });

  test('an owner that does not answer is asked again as ownership moves, and the new owner answers', async () => {
    const s = source({
      held: [0], owners: ['here', 'dead', 'n2', 'n2'],
      answer: async (owner) => {
        if (owner === 'dead') {
          s.owners[1] = 'n2';
          throw new ShareOwnerUnreachableError(owner, 'no answer within 100 ms');
        }
        return emptyShare();
      },
    });
    const gathered = await gatherSpeed(s, query, plan, 4);
    assert.deepEqual(gathered.missing, []);
    assert.equal(gathered.tables.length, 2, 'n2 answered for its own two at once, and for partition 1 once it owned it');
    assert.deepEqual(s.asks.map((a) => [a.owner, a.request.partitions]), [['dead', [1]], ['n2', [2, 3]], ['n2', [1]]]);
  });

  test('partitions no node gives within the wait refuse the query, naming them and why; allowPartial answers without them and names them', async () => {
    const answer = async (owner: string, request: Ask): Promise<Share> => {
      if (owner === 'gone') throw new ShareOwnerUnreachableError(owner, 'no process answers on its subject');
      if (owner === 'moving') throw new PartitionNotServedError(owner, request.partitions[0]!);
      return emptyShare();
    };
    const started = Date.now();
    await assert.rejects(gatherSpeed(source({ held: [0], owners: ['here', 'gone', null, 'moving'], answer, waitMs: 300 }), query, plan, 4), (error: unknown) => {
      assert.ok(error instanceof PartitionsUnavailableError);
      assert.deepEqual(error.partitions, [1, 2, 3]);
      assert.match(error.message, /^The speed layer of partitions 1, 2, 3 could not be read from any node within \d+ ms \(.*gone.*no process answers.*\), so retry shortly, or send allowPartial to answer without them\.$/);
      assert.match(error.message, /no node owns it yet/);
      assert.match(error.message, /moving: Node moving does not hold partition 3/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    assert.ok(Date.now() - started >= 300, 'it waited for ownership to move first');
    const partial = planQuery(catalog, { ...query, allowPartial: true });
    const gathered = await gatherSpeed(source({ held: [0], owners: ['here', 'gone', 'n1', null], answer, waitMs: 300 }), { ...query, allowPartial: true }, partial, 4);
    assert.deepEqual(gathered.missing, [1, 3]);
    assert.equal(gathered.tables.length, 1, 'n1\'s share is in the answer');
  });

  test('a partition this node owns but is still reading is waited for, and read here once held', async () => {
    const held = [0];
    const s = source({ held, owners: ['here', 'here', 'here', 'here'] });
    setTimeout(() => held.push(1, 2, 3), 250);
    const gathered = await gatherSpeed(s, query, plan, 4);
    assert.deepEqual([...gathered.local].sort(), [0, 1, 2, 3]);
    assert.equal(s.asks.length, 0, 'nobody else is asked for partitions this node owns');
  });

  test('an owner serving a newer batch version makes the gathering stale once this node serves it too; an owner behind is asked again', async () => {
    const s = source({
      held: [0], owners: ['here', 'ahead', 'ahead', 'ahead'],
      answer: async (owner, request) => {
        setTimeout(() => (s.served = [11, 21, 31, 41]), 50);
        throw new ShareVersionSkewError(owner, request.partitions[0]!, request.cutoffs[0]!, request.cutoffs[0]! + 5);
      },
    });
    const gathered = await gatherSpeed(s, query, plan, 4);
    assert.equal(gathered.stale, true);
    assert.notEqual(s.cutoffs(), gathered.cutoffs, 'this node serves the newer version by the time it returns');

    let asked = 0;
    const behind = source({
      held: [0, 1, 2], owners: ['here', 'here', 'here', 'slow'],
      answer: async (owner, request) => {
        if (asked++ === 0) throw new ShareVersionSkewError(owner, 3, request.cutoffs[0]!, request.cutoffs[0]! - 5);
        return emptyShare();
      },
    });
    const retried = await gatherSpeed(behind, query, plan, 4);
    assert.deepEqual({ stale: retried.stale, tables: retried.tables.length, asks: behind.asks.length }, { stale: false, tables: 1, asks: 2 });
  });
});
