/**
 * Everything issue #31 added, under one schedule, with kill -9: ingests
 * (duplicates, late and invalid events included), batch cycles sealed or
 * not, views changed, added, dropped and cancelled while their backfills
 * run, the clock moved so that retention retires files, erasures by a field
 * or by idempotency keys, clean restarts, and SIGKILL at any moment, in the
 * middle of a command or of a background backfill.
 *
 * The engine runs in a process of its own. A command cut by the kill is
 * sent again after the restart, as a client that never got its answer
 * would (ingests are idempotent on their keys, erasures and view changes on
 * their content). After every step, every view served answers, over the
 * range from the retention horizon on, exactly as the reference computed
 * over the accepted events minus the erased ones with the definition of
 * the version that answered; a view being added says so. A backfill ends,
 * and its view switches in, at any moment: a view whose version changed
 * while its queries ran is checked again, and a version that answered is
 * never given to another definition.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertProperty } from '../support/assert-property.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import {
  BASE, CHANGED, DAY, initialViews, RETENTION_DAYS, VARIANTS, type Answer, type Command, type QueryAnswer, type ScheduleStatus,
} from '../support/schedule-fixture.ts';
import { Definitions, queriesOf } from '../support/schedule-model.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const CHILD = fileURLToPath(new URL('../support/schedule-child.ts', import.meta.url));
/** How long one command may take before the test calls the process stuck. */
const COMMAND_MS = 120_000;

type Action =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'apply'; readonly variant: number }
  | { readonly kind: 'drop' | 'cancel'; readonly view: (typeof CHANGED)[number] }
  | { readonly kind: 'settle' }
  | { readonly kind: 'advance'; readonly days: number }
  | { readonly kind: 'eraseCountry'; readonly country: string; readonly mobile: boolean | null }
  | { readonly kind: 'eraseIds'; readonly ids: readonly string[] }
  | { readonly kind: 'restart' };
/** An action, and when set, a SIGKILL that many milliseconds after it is sent (answered or not). */
type Step = Action & { readonly killAfterMs?: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.array(shopEvent, { maxLength: 40 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 3, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  { weight: 3, arbitrary: fc.nat(VARIANTS.length - 1).map((variant) => ({ kind: 'apply' as const, variant })) },
  { weight: 1, arbitrary: fc.constantFrom(...CHANGED).map((view) => ({ kind: 'drop' as const, view })) },
  { weight: 1, arbitrary: fc.constantFrom(...CHANGED).map((view) => ({ kind: 'cancel' as const, view })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 5, max: 60 }).map((days) => ({ kind: 'advance' as const, days })) },
  {
    weight: 2,
    arbitrary: fc.record({ country: fc.constantFrom('DE', 'FR', 'US', 'BR'), mobile: fc.option(fc.boolean(), { nil: null }) }).map((r) => ({ kind: 'eraseCountry' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.uniqueArray(fc.nat(40).map((k) => `k${k}`), { minLength: 1, maxLength: 5 }).map((ids) => ({ kind: 'eraseIds' as const, ids })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);
const step: fc.Arbitrary<Step> = fc
  .tuple(action, fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 80 }) }))
  .map(([a, killAfterMs]) => (killAfterMs === undefined || a.kind === 'restart' ? a : { ...a, killAfterMs }));

/** A schedule opens with events, so that its erasures and retention moves have something to take out. */
const schedule: fc.Arbitrary<Step[]> = fc
  .tuple(fc.array(shopEvent, { minLength: 10, maxLength: 40 }), fc.array(step, { minLength: 4, maxLength: 14 }))
  .map(([events, steps]) => [{ kind: 'ingest' as const, events }, ...steps]);

/** The engine's process: commands answered in order, or cut by a kill. */
class EngineProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (answer: Answer) => void>();
  readonly exited: Promise<void>;
  #next = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: Answer & { readonly id?: number }) => {
      if (m.id === undefined) return;
      this.#waiting.get(m.id)?.(m);
      this.#waiting.delete(m.id);
    });
  }

  static async start(dataDir: string, now: number): Promise<EngineProcess> {
    const child = fork(CHILD, [dataDir, String(now)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
    const started = new EngineProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the engine process exited with ${code} while opening`)));
    });
    return started;
  }

  /** Sends `command`; its answer, or undefined when the process died first. */
  send(command: Command): Promise<Answer | undefined> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command.op} got no answer within ${COMMAND_MS} ms`)), COMMAND_MS);
      const done = (answer: Answer | undefined) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.#waiting.set(id, done);
      void this.exited.then(() => done(undefined));
      this.#child.send({ id, ...command });
    });
  }

  /** The value `command` answers; throws what the engine threw. */
  async ask<T>(command: Command): Promise<T> {
    const answer = await this.send(command);
    if (answer === undefined) throw new Error(`the engine process died during ${command.op}`);
    if ('error' in answer) throw Object.assign(new Error(answer.error.message), { name: answer.error.name });
    return answer.value as T;
  }

  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}

/** The model: what was accepted and not erased, the clock, and the definitions answered with. */
class Model {
  readonly accepted = new AcceptedEvents();
  readonly definitions = new Definitions(initialViews);
  now = BASE + 100 * DAY;
  get horizon(): number {
    return this.now - RETENTION_DAYS * DAY;
  }
}

/** What the runs covered, so that a schedule generator gone lame shows. */
const seen = { kills: 0, retired: 0, erased: 0, rowsCompared: 0, switched: 0 };

/** Every view served answers as the reference over the range from the horizon on; one being added says so. */
async function checkAnswers(engine: EngineProcess, model: Model): Promise<void> {
  const status = await engine.ask<ScheduleStatus>({ op: 'status' });
  seen.retired = Math.max(seen.retired, status.retiredEvents);
  seen.switched = Math.max(seen.switched, ...Object.values(status.versions));
  for (const name of new Set([...status.served, ...status.pending])) {
    let known = status;
    for (let attempt = 1; ; attempt++) {
      try {
        await checkView(engine, model, name, known);
        break;
      } catch (error) {
        // A backfill that ends switches its view in at any moment, between the status and a query: queries shaped
        // for the version the status named may not fit the next one (an InvalidQueryError), and that version is no
        // longer served. Checked again from the new status; an error with no switch in between fails here.
        if (error instanceof assert.AssertionError || attempt === 3) throw error;
        const now = await engine.ask<ScheduleStatus>({ op: 'status' });
        if (!switchedSince(known, now, name)) throw error;
        known = now;
      }
    }
  }
}

/** Whether view `name` was switched in, or its change ended, between two statuses. */
function switchedSince(before: ScheduleStatus, after: ScheduleStatus, name: string): boolean {
  return before.versions[name] !== after.versions[name] || before.served.includes(name) !== after.served.includes(name) || before.pending.includes(name) !== after.pending.includes(name);
}

/** View `name` answers as the reference, with the definition of the version `status` names for it; one being added says so. */
async function checkView(engine: EngineProcess, model: Model, name: string, status: ScheduleStatus): Promise<void> {
  if (!status.served.includes(name)) {
    if (!status.pending.includes(name)) return;
    const refused = await engine.ask({ op: 'query', query: { view: name, granularity: 'all' } }).then(() => undefined, (error: Error) => error);
    if (refused?.name === 'ViewBackfillingError') return;
    // Answered: switched in since the status, so checked again as served, over the range from the horizon on.
    throw refused ?? new Error(`${name} answered, though the status had it being added`);
  }
  for (const query of queriesOf(model.definitions.of(name, status.versions[name]!), model.horizon)) {
    const answer = await engine.ask<QueryAnswer>({ op: 'query', query });
    const version = answer.meta.viewVersion!;
    model.definitions.served(name, version);
    const rows = (await engine.ask<QueryAnswer>({ op: 'query', query: { ...query, version } })).rows;
    const expected = referenceQuery(model.definitions.of(name, version), model.accepted.events, query);
    seen.rowsCompared += expected.length;
    if (query.limit !== undefined) assert.deepEqual(rows, expected, `${JSON.stringify(query)} v${version}`);
    else assert.deepEqual(canonicalRows(rows), canonicalRows(expected), `${JSON.stringify(query)} v${version}`);
  }
}

/** The command an action sends, if any, and what the model learns once it is answered. */
function commandOf(a: Action, model: Model): { readonly command: Command; readonly done?: (value: unknown) => void } | undefined {
  switch (a.kind) {
    case 'ingest':
      return { command: { op: 'ingest', events: a.events.map((e) => e.raw) } };
    case 'batch':
      return { command: { op: 'batch', seal: a.seal } };
    case 'apply':
      return { command: { op: 'apply', definition: VARIANTS[a.variant]! }, done: (value) => model.definitions.record(VARIANTS[a.variant]!, (value as { version: number }).version) };
    case 'drop':
    case 'cancel':
      return { command: { op: a.kind, view: a.view } };
    case 'settle':
      return { command: { op: 'settle' } };
    case 'advance':
      return { command: { op: 'setNow', now: model.now + a.days * DAY } };
    case 'eraseCountry':
      return { command: { op: 'erase', where: { country: a.country, ...(a.mobile === null ? {} : { mobile: a.mobile }) } } };
    case 'eraseIds':
      return { command: { op: 'erase', where: { id: [...a.ids] } } };
    case 'restart':
      return undefined;
  }
}

/** The model after `a` took effect, whether it was answered or cut by a kill and sent again. */
function applyToModel(a: Action, model: Model): void {
  if (a.kind === 'ingest') model.accepted.add(a.events);
  else if (a.kind === 'advance') model.now += a.days * DAY;
  else if (a.kind === 'eraseCountry') seen.erased += model.accepted.erase((e) => e.country === a.country && (a.mobile === null || e.mobile === a.mobile));
  else if (a.kind === 'eraseIds') seen.erased += model.accepted.erase((e) => a.ids.includes(e.id));
}

/** Refusals a command may meet when sent again, or when the view is not in the state the schedule guessed. */
const EXPECTED_REFUSALS = /Unknown view|no change under way|switching in now/;

async function runSchedule(steps: readonly Step[]): Promise<void> {
  await withTempDir(async (dir) => {
    const model = new Model();
    let engine = await EngineProcess.start(dir, model.now);
    try {
      for (const s of steps) {
        const sent = commandOf(s, model);
        if (sent === undefined) {
          await engine.ask({ op: 'close' });
          await engine.exited;
          engine = await EngineProcess.start(dir, model.now);
        } else {
          let answer: Answer | undefined;
          if (s.killAfterMs === undefined) answer = await engine.send(sent.command);
          else {
            const answered = engine.send(sent.command);
            await new Promise((resolve) => setTimeout(resolve, s.killAfterMs));
            await engine.kill();
            seen.kills++;
            answer = await answered;
            engine = await EngineProcess.start(dir, model.now);
            // Cut or not, sent again: what the kill interrupted is finished now, and what it prevented is done. A cycle or a wait needs no second try.
            if (sent.command.op !== 'batch' && sent.command.op !== 'settle') answer = await engine.send(sent.command);
            else answer ??= { value: undefined };
          }
          assert.ok(answer !== undefined, `the engine process died during ${sent.command.op}`);
          if ('error' in answer) assert.match(answer.error.message, EXPECTED_REFUSALS, `${sent.command.op}: ${answer.error.name}`);
          else sent.done?.(answer.value);
          applyToModel(s, model);
        }
        await checkAnswers(engine, model);
      }
      await engine.ask({ op: 'settle' });
      await checkAnswers(engine, model);
    } finally {
      await engine.kill();
    }
  });
}

test('mixed schedules - view changes, retention, erasures, restarts and kill -9 in any order answer as the reference over what should remain', { timeout: 1_200_000 }, async (t) => {
  await assertProperty(fc.asyncProperty(schedule, runSchedule), { numRuns: 12, seed: 20261204 });
  t.diagnostic(`covered: ${JSON.stringify(seen)}`);
  // The fixed seed's schedules kill, retire, erase and switch views in: a change of the generators that stops doing so fails here.
  assert.ok(seen.kills > 0 && seen.retired > 0 && seen.erased > 0 && seen.switched > 1 && seen.rowsCompared > 0, JSON.stringify(seen));
});
