/**
 * `tandem repair`: salvages a damaged event log, and writes a missing file of
 * the data directory again from a copy that survives.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dataDirectory } from '../../util/data-directory.ts';
import type { LogRepair } from '../../log/index.ts';
import { DataDirectoryLockedError } from '../../engine/index.ts';
import { Tandem } from '../../backends/local/index.ts';
import { CliError } from '../cli-error.ts';
import { countOf } from '../count-of.ts';

export async function repair(options: { data: string }): Promise<void> {
  if (!existsSync(dataDirectory(options.data).log)) throw new CliError(`${options.data} holds no Tandem event log (no log/ directory).`);
  const repairs = await Tandem.repair(options.data).catch((error: unknown) => {
    if (error instanceof DataDirectoryLockedError) throw new CliError(`${options.data} is in use by ${error.pid === null ? 'another process' : `process ${error.pid}`}; stop it first, since repair needs the data directory to itself.`);
    throw error;
  });
  if (repairs.length === 0) return console.log(`Nothing to repair: every log segment in ${options.data} reads whole, and every offset is where the layers read it.`);
  for (const r of repairs) console.log(formatRepair(r));
  const lost = repairs.reduce((n, r) => n + r.lost.reduce((m, [from, to]) => m + to - from, 0), 0);
  const gone = repairs.find((r) => r.lostFrom !== undefined)?.lostFrom;
  if (gone !== undefined) return console.log(`\nThe events from offset ${gone.toLocaleString('en-US')} on, in the missing newest log segment, are gone; how many is not known. ${lost === 0 ? 'No other event was lost.' : `${lost.toLocaleString('en-US')} more could not be read.`}`);
  console.log(lost === 0
    ? '\nNo acknowledged event was lost.'
    : `\n${countOf(lost, 'event')} ${lost === 1 ? 'could not be read and is' : 'could not be read and are'} left out of every view; the next batch run rebuilds the views without them.`);
}

function formatRepair(repair: LogRepair): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const what = repair.action !== undefined
    ? repair.lost.length === 0 ? repair.action : `lost offsets ${repair.lost.map(([from, to]) => `${n(from)}–${n(to - 1)}`).join(', ')}, ${repair.action}`
    : repair.restoredFrom !== null
    ? `rebuilt whole from its Parquet export (${repair.restoredFrom})`
    : repair.lost.length === 0
    ? 'cut off a torn tail'
    : `lost offsets ${repair.lost.map(([from, to]) => `${n(from)}–${n(to - 1)}`).join(', ')}`;
  const kept = repair.quarantined === null ? '' : `; the original is kept at ${repair.quarantined}`;
  return `${repair.file}: ${what} (${repair.reasons.join('; ')})${kept}`;
}
