/**
 * What a user reads when a typed call does not compile, on TypeScript 6 and
 * 7: each message names what is misspelt and what it should be (the view,
 * dimension, measure, event type, field or quantile), and none is the
 * "not assignable to parameter of type 'never'" or the overload list an
 * untyped fallback signature used to give.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMPILERS, compileErrors, ROOT, tscOf } from './compile-errors.ts';

const PREAMBLE = [
  `import { createClient } from '${ROOT}src/client/index.ts';`,
  `import { Tandem } from '${ROOT}src/index.ts';`,
  `import { shopConfig } from '${ROOT}test/support/shop-config.ts';`,
  `const client = createClient<typeof shopConfig>({ url: 'http://127.0.0.1:7070' });`,
  `const tandem = await Tandem.open({ dataDir: '/tmp/never', config: shopConfig });`,
  `const someView: string = JSON.parse('"by_country_hour"');`,
  `const { rows } = await client.query({ view: 'by_country_hour', granularity: 'all' });`,
];

/** A line that must not compile, and what its message must say. */
interface Case {
  readonly what: string;
  readonly line: string;
  readonly says: readonly RegExp[];
}

const CASES: readonly Case[] = [
  { what: 'client: a misspelt view', line: `await client.query({ view: 'by_country_hr' });`, says: [/by_country_hr/, /by_country_hour/] },
  { what: 'client: a misspelt dimension', line: `await client.query({ view: 'by_country_hour', groupBy: ['contry'] });`, says: [/contry/, /country/] },
  { what: 'client: a misspelt measure', line: `await client.query({ view: 'by_country_hour', orderBy: [{ measure: 'revenu' }] });`, says: [/revenu/, /revenue/] },
  { what: 'client: a run-time view name', line: `await client.query({ view: someView });`, says: [/string/, /by_country_hour/] },
  { what: 'client: a misspelt event type', line: `await client.ingest('ordr', []);`, says: [/ordr/, /order/] },
  { what: 'client: a misspelt field', line: `await client.ingest('order', [{ id: 'o1', at: 0, contry: 'DE', mobile: true, amount: 1, qty: 1 }]);`, says: [/contry/, /country/] },
  { what: 'client: a quantile the view does not define', line: `rows[0]?.spread.p75;`, says: [/p75/, /p50/, /p90/] },
  { what: 'engine: a misspelt view', line: `await tandem.query({ view: 'by_country_hr' });`, says: [/by_country_hr/, /by_country_hour/] },
  { what: 'engine: a misspelt dimension in where', line: `await tandem.query({ view: 'by_country_hour', where: { contry: 'DE' } });`, says: [/contry/, /country/] },
  { what: 'engine: a misspelt measure', line: `await tandem.query({ view: 'all_time', orderBy: [{ measure: 'basket' }] });`, says: [/basket/, /orders/] },
  { what: 'engine: a misspelt event type', line: `await tandem.ingest('ordr', []);`, says: [/ordr/, /order/] },
  { what: 'engine: a misspelt field', line: `await tandem.ingest('order', [{ id: 'o1', at: 0, country: 'DE', mobile: true, amont: 1, qty: 1 }]);`, says: [/amont/, /amount/] },
];

/** What the messages must never be again. */
const UNREADABLE = [/parameter of type 'never'/, /No overload matches this call/];

for (const [compiler, name] of Object.entries(COMPILERS)) {
  describe(`typings - ${compiler} messages`, () => {
    let messages: Promise<string[]> | undefined;
    const compiled = () => {
      const tsc = tscOf(name);
      if (tsc === undefined) throw new Error(`${compiler} is not installed (the devDependency '${name}'): run npm install.`);
      messages ??= compileErrors(tsc, PREAMBLE, CASES.map((c) => c.line));
      return messages;
    };
    CASES.forEach((c, i) => {
      test(`typings - ${compiler}: ${c.what} names it`, { timeout: 120_000 }, async () => {
        const message = (await compiled())[i]!;
        assert.notEqual(message, '', `${c.line} compiled`);
        for (const says of c.says) assert.match(message, says);
        for (const unreadable of UNREADABLE) assert.doesNotMatch(message, unreadable);
      });
    });
  });
}
