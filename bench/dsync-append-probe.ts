/**
 * `node --import tsx bench/dsync-append-probe.ts [seconds=10] [rounds=2]`:
 * what an `O_DSYNC` append costs beside another writer that writes files,
 * fsyncs them, renames them and syncs their directory (as the export and
 * the batch layer write Parquet), against the same writes into a file
 * filled with zeros ahead of time (issue #29). An append that grows a file
 * changes its size, which on ext4 commits the journal, and a journal commit
 * waits for the other writer's data; a write into blocks already written
 * changes no metadata that a data sync needs. The two kinds alternate.
 *
 * @module
 */
import { constants } from 'node:fs';
import { mkdtemp, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../src/util/start-worker.ts';

const APPEND_BYTES = 16 * 1024;
const PREFILL_BYTES = 64 * 1024 * 1024;

/** The other writer: 20 MiB files, each fsync'd, renamed and its directory synced, 300 ms apart. */
async function otherWriter(dir: string, stopAt: number): Promise<void> {
  const block = Buffer.alloc(1 << 20, 1);
  for (let i = 0; Date.now() < stopAt; i++) {
    const file = await open(join(dir, `other-${i}.tmp`), 'w');
    for (let mb = 0; mb < 20; mb++) await file.write(block);
    await file.sync();
    await file.close();
    await rename(join(dir, `other-${i}.tmp`), join(dir, `other-${i}.parquet`));
    const handle = await open(dir, 'r');
    await handle.sync();
    await handle.close();
    await rm(join(dir, `other-${i}.parquet`));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function prefill(file: FileHandle): Promise<void> {
  const zeros = Buffer.alloc(1 << 20);
  for (let at = 0; at < PREFILL_BYTES; at += zeros.length) await file.write(zeros, 0, zeros.length, at);
}

/** Appends with O_DSYNC, one every millisecond, for `seconds`; returns each write's latency, sorted. */
async function appendLatencies(dir: string, zeroFilled: boolean, seconds: number): Promise<number[]> {
  const path = join(dir, `log-${zeroFilled ? 'zeroed' : 'append'}`);
  const file = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC, 0o666);
  try {
    if (zeroFilled) await prefill(file);
    const chunk = Buffer.alloc(APPEND_BYTES, 7);
    const latencies: number[] = [];
    const until = performance.now() + seconds * 1000;
    for (let at = 0; performance.now() < until; at += chunk.length) {
      const start = performance.now();
      await file.write(chunk, 0, chunk.length, at);
      latencies.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return latencies.sort((a, b) => a - b);
  } finally {
    await file.close();
    await rm(path, { force: true });
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const rounds = Number(process.argv[3] ?? 2);
  const dir = await mkdtemp(join(tmpdir(), 'tandem-dsync-'));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const zeroFilled of [false, true]) {
        const other = startWorker(new URL(import.meta.url), { dir, stopAt: Date.now() + seconds * 1000 + 3000 });
        const ms = await appendLatencies(dir, zeroFilled, seconds);
        await other.terminate();
        const q = (x: number) => ms[Math.min(ms.length - 1, Math.floor(x * ms.length))]!.toFixed(2);
        console.log(`${zeroFilled ? 'into zeros' : 'appending '}: ${ms.length} writes of 16 KiB, p50 ${q(0.5)} ms, p99 ${q(0.99)}, max ${q(1)}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else {
  const { dir, stopAt } = workerData as { dir: string; stopAt: number };
  await otherWriter(dir, stopAt).catch(() => undefined);
  parentPort?.close();
}
