import fc from 'fast-check';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataDirectoryLockedError, Tandem } from '../../src/index.ts';
import { DataDirLock, lockTiming, parseLock, processStartTicks, startTicksOf } from '../../src/engine/data-dir-lock.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LINUX = { skip: process.platform === 'linux' ? false : 'reads /proc' };

test('lock - a second engine on the same data directory is refused, naming the holder; closing frees it', async () => {
  await withTempDir(async (dir) => {
    const first = await Tandem.open({ dataDir: dir, config: shopConfig });
    await assert.rejects(Tandem.open({ dataDir: dir, config: shopConfig }), (error: unknown) =>
      error instanceof DataDirectoryLockedError && error.pid === process.pid && /is in use by process \d+; stop it first/.test(error.message));
    await first.close();
    const second = await Tandem.open({ dataDir: dir, config: shopConfig });
    await second.close();
  });
});

test('lock - a lock left by a dead process is taken over, in the old format (a pid alone) and the new', async () => {
  await withTempDir(async (dir) => {
    const first = await Tandem.open({ dataDir: dir, config: shopConfig });
    await first.close();
    for (const text of ['999999999\n', '{"pid":999999999,"started":"1","boot":null,"host":"h","token":"t"}\n', '', 'garbage', '{"pid":-1}']) {
      await writeFile(join(dir, 'LOCK'), text);
      const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
      await engine.close();
    }
  });
});

test('lock - the LOCK names the pid, its start time, the boot, the host and a token; closing removes it', LINUX, async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    const holder = parseLock(await readFile(join(dir, 'LOCK'), 'utf8'))!;
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.started, await processStartTicks(process.pid));
    assert.equal(holder.boot, (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim());
    assert.equal(holder.host, hostname());
    assert.match(holder.token!, /^[0-9a-f]{32}$/);
    await engine.close();
    await assert.rejects(readFile(join(dir, 'LOCK')), { code: 'ENOENT' });
  });
});

/** Starts a process that lives until killed, and kills it when `fn` ends, however it ends. */
async function withProcess<T>(command: string, args: readonly string[], fn: (child: ChildProcess) => Promise<T>): Promise<T> {
  const child = spawn(command, args, { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  try {
    return await fn(child);
  } finally {
    child.kill('SIGKILL');
  }
}

const bootId = async () => (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
const lockText = (holder: Record<string, unknown>) => `${JSON.stringify(holder)}\n`;

test('lock - a LOCK whose pid now belongs to another live process (another start time) is taken over; the true holder is refused', LINUX, async () => {
  await withProcess('sleep', ['600'], async (sleeper) => {
    const pid = sleeper.pid!;
    const started = (await processStartTicks(pid))!;
    await withTempDir(async (dir) => {
      const boot = await bootId();
      // The pid of a live, unrelated process: the sleeper, and this test's parent.
      for (const [holderPid, wrong] of [[pid, String(Number(started) + 1)], [process.ppid, '1'], [pid, '0']] as const) {
        await writeFile(join(dir, 'LOCK'), lockText({ pid: holderPid, started: wrong, boot, host: hostname(), token: 'stale' }));
        const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
        assert.equal(parseLock(await readFile(join(dir, 'LOCK'), 'utf8'))!.pid, process.pid, 'taken over');
        await engine.close();
      }
      // The same pid and start time: that process is the holder.
      await writeFile(join(dir, 'LOCK'), lockText({ pid, started, boot, host: hostname(), token: 'live' }));
      await assert.rejects(Tandem.open({ dataDir: dir, config: shopConfig }), (error: unknown) => error instanceof DataDirectoryLockedError && error.pid === pid);
      assert.equal(parseLock(await readFile(join(dir, 'LOCK'), 'utf8'))!.token, 'live', 'a refused engine leaves the LOCK alone');
      // Written during another boot: whatever has that pid now is not the holder.
      await writeFile(join(dir, 'LOCK'), lockText({ pid, started, boot: 'another-boot', host: hostname(), token: 'old-boot' }));
      const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
      await engine.close();
    });
  });
});

test('lock - an old LOCK (a pid alone) is taken over when its process started after the file was written, refused otherwise', LINUX, async () => {
  await withProcess('sleep', ['600'], async (sleeper) => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'LOCK');
      // Written an hour ago: the sleeper, started a moment ago, cannot have written it.
      await writeFile(path, `${sleeper.pid}\n`);
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(path, hourAgo, hourAgo);
      const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
      await engine.close();
      // Written now, naming a process that started before: it may be the holder.
      for (const pid of [sleeper.pid!, process.ppid]) {
        await writeFile(path, `${pid}\n`);
        await assert.rejects(Tandem.open({ dataDir: dir, config: shopConfig }), (error: unknown) => error instanceof DataDirectoryLockedError && error.pid === pid);
      }
    });
  });
});

/** Runs TypeScript in a child process (this repository's sources, through tsx). */
function spawnScript(code: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before a line: ${err}`)));
  });
}

test('lock - a live engine in another process is refused, naming its pid; after kill -9 its lock is taken over', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const holder = spawnScript(`
      import { DataDirLock } from './src/engine/data-dir-lock.ts';
      await DataDirLock.acquire(${JSON.stringify(dir)});
      console.log('held');
      setInterval(() => {}, 1000);`);
    try {
      assert.equal(await firstLine(holder), 'held');
      await assert.rejects(DataDirLock.acquire(dir), (error: unknown) => error instanceof DataDirectoryLockedError && error.pid === holder.pid);
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
      const lock = await DataDirLock.acquire(dir);
      await lock.release();
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

test('lock - engines racing for a stale lock: exactly one wins, in one process and across processes', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    for (let round = 0; round < 5; round++) {
      await writeFile(join(dir, 'LOCK'), '999999999\n');
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => DataDirLock.acquire(dir)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}`);
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof DataDirectoryLockedError, String(o.reason));
      await won[0]!.value.release();
    }
    await writeFile(join(dir, 'LOCK'), '999999999\n');
    // Each child tries once, holds what it won until the others have answered, and says which.
    const children = Array.from({ length: 4 }, () => spawnScript(`
      import { DataDirLock } from './src/engine/data-dir-lock.ts';
      try {
        await DataDirLock.acquire(${JSON.stringify(dir)});
        console.log('won');
        setTimeout(() => {}, 30_000);
      } catch (error) {
        console.log(error.code === 'data_directory_locked' ? 'refused' : String(error));
        process.exit(0);
      }`));
    try {
      const answers = await Promise.all(children.map(firstLine));
      assert.deepEqual(answers.sort(), ['refused', 'refused', 'refused', 'won']);
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
    // No staged or set-aside copy is left behind.
    assert.deepEqual((await readdir(dir)).filter((name) => name !== 'LOCK'), []);
  });
});

test('lock - release leaves alone a LOCK that another engine took over', async () => {
  await withTempDir(async (dir) => {
    const lock = await DataDirLock.acquire(dir);
    const other = lockText({ pid: 999999999, started: null, boot: null, host: 'elsewhere', token: 'other' });
    await writeFile(join(dir, 'LOCK'), other);
    await lock.release();
    assert.equal(await readFile(join(dir, 'LOCK'), 'utf8'), other);
  });
});

test('lock - any LOCK content: a live holder is refused, anything else taken over', { ...LINUX, timeout: 60_000 }, async () => {
  await withProcess('sleep', ['600'], async (sleeper) => {
    const boot = await bootId();
    const live = { pid: sleeper.pid!, started: (await processStartTicks(sleeper.pid!))! };
    const parent = { pid: process.ppid, started: (await processStartTicks(process.ppid))! };
    const holder = fc.record({
      who: fc.constantFrom('sleeper', 'parent', 'dead', 'self'),
      started: fc.constantFrom('right', 'wrong', 'null', 'absent'),
      boot: fc.constantFrom('ours', 'other', 'null'),
      extra: fc.dictionary(fc.constantFrom('host', 'token', 'note'), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
    });
    const garbage = fc.string().filter((s) => !/^\s*\d+\s*$/.test(s) && parseLock(s) === null);
    await withTempDir(async (dir) => {
      await fc.assert(fc.asyncProperty(fc.oneof(holder, garbage), async (content) => {
        let text: string;
        let refused: boolean;
        if (typeof content === 'string') {
          text = content;
          refused = false;
        } else {
          const process_ = content.who === 'sleeper' ? live : content.who === 'parent' ? parent : content.who === 'self' ? { pid: process.pid, started: (await processStartTicks(process.pid))! } : { pid: 999999999, started: '5' };
          const record: Record<string, unknown> = { ...content.extra, pid: process_.pid };
          if (content.started !== 'absent') record.started = content.started === 'right' ? process_.started : content.started === 'wrong' ? `${process_.started}0` : null;
          record.boot = content.boot === 'ours' ? boot : content.boot === 'other' ? 'b0' : null;
          text = lockText(record);
          // Alive: a live pid (not ours: no engine here holds that token), same boot or unknown, and the same start time or none to compare.
          refused = (content.who === 'sleeper' || content.who === 'parent') && content.boot !== 'other' && (content.started === 'right' || content.started === 'null' || content.started === 'absent');
        }
        await writeFile(join(dir, 'LOCK'), text);
        try {
          const lock = await DataDirLock.acquire(dir);
          await lock.release();
          assert.equal(refused, false, `taken over: ${text}`);
        } catch (error) {
          if (!(error instanceof DataDirectoryLockedError)) throw error;
          assert.equal(refused, true, `refused: ${text}`);
        }
      }), { seed: 20261203, numRuns: 150 });
    });
  });
});

test('lock - the start time is field 22 of /proc/<pid>/stat, counted after the command name, which may hold spaces and parentheses', () => {
  const rest = (ticks: string) => ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 4)), ticks, '25', '26'].join(' ');
  fc.assert(fc.property(fc.string({ maxLength: 16 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (comm, ticks) => {
    assert.equal(startTicksOf(`4242 (${comm}) ${rest(String(ticks))}`), String(ticks));
  }), { seed: 20261204, numRuns: 500 });
  assert.equal(startTicksOf('4242 (a) b) c) S 1'), null);
  assert.equal(startTicksOf(''), null);
});

test('lock - a takeover claim left by a process that died during its takeover is dropped once it is old', async () => {
  await withTempDir(async (dir) => {
    const stale = '999999999\n';
    const path = join(dir, 'LOCK');
    await writeFile(path, stale);
    const claim = `${path}.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}.takeover`;
    await link(path, claim);
    const saved = lockTiming.claimTimeoutMs;
    lockTiming.claimTimeoutMs = 50;
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const lock = await DataDirLock.acquire(dir);
      await lock.release();
    } finally {
      lockTiming.claimTimeoutMs = saved;
    }
    assert.deepEqual(await readdir(dir), []);
  });
});
