/**
 * An engine in a process of its own, driven over IPC by a test that kills
 * it with SIGKILL at any moment (test/faults/mixed-schedules.test.ts).
 * Arguments: the data directory and the clock's time in milliseconds.
 */
import { Tandem } from '../../src/index.ts';
import { GRACE_MS, scheduleConfig, type Answer, type Command, type ScheduleStatus } from './schedule-fixture.ts';

let now = Number(process.argv[3]);
const engine = await Tandem.open({
  dataDir: process.argv[2]!, config: scheduleConfig, segmentBytes: 2048, backfillRestShare: 0, now: () => now, retentionGraceMs: GRACE_MS,
});

/** Waits until no view change is under way: a backfill runs in the background. */
async function settle(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (engine.status().viewChanges.length > 0) {
    if (Date.now() > deadline) throw new Error(`view changes did not settle: ${JSON.stringify(engine.status().viewChanges)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'ingest':
      return engine.ingestUntyped('order', command.events);
    case 'batch':
      return engine.runBatch({ seal: command.seal });
    case 'apply':
      return engine.applyView(command.definition);
    case 'drop':
      return engine.dropView(command.view);
    case 'cancel':
      return engine.cancelViewChange(command.view);
    case 'erase':
      return engine.erase({ eventType: 'order', where: command.where }, { by: 'schedule test' });
    case 'settle':
      return settle();
    case 'setNow':
      now = command.now;
      return undefined;
    case 'query': {
      const { rows, meta } = await engine.queryUntyped(command.query);
      return { rows, meta };
    }
    case 'status': {
      const status = engine.status();
      return { served: [...engine.catalog.views.keys()], pending: status.viewChanges.map((c) => c.view), versions: { ...status.viewVersions }, retiredEvents: status.retention?.retiredEvents ?? 0 } satisfies ScheduleStatus;
    }
    case 'close':
      await engine.close();
      return undefined;
  }
}

process.on('message', (message: Command & { readonly id: number }) => {
  void run(message).then(
    (value): Answer => ({ value }),
    (error: unknown): Answer => ({ error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } }),
  ).then((answer) => {
    // Closed: the answer goes out before the channel, so the process can end.
    process.send!({ id: message.id, ...answer }, () => message.op === 'close' && process.disconnect());
  });
});
process.send!({ ready: true });
