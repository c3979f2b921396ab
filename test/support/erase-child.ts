/**
 * A process that opens a data directory and erases the fixture's customer,
 * for a test to kill with SIGKILL in the middle. It says `erasing` on
 * stdout just before it starts, and `erased` once done.
 */
import { Tandem } from '../../src/index.ts';
import { ERASED_CUSTOMER, erasureConfig } from './erasure-fixture.ts';

const engine = await Tandem.open({ dataDir: process.argv[2]!, config: erasureConfig });
process.stdout.write('erasing\n');
await engine.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'kill test' });
process.stdout.write('erased\n');
await engine.close();
