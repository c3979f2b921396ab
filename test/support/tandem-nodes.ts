/**
 * Tandem cluster nodes as separate processes (`tandem serve --nats`), as a
 * user runs them: started, killed with any signal, restarted on the same
 * data directory, and always stopped by process group when the suite ends,
 * whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN } from './spawn-cli.ts';

const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch { /* gone */ }
  }
});

interface NodeProcess {
  child: ChildProcess | undefined;
  exited: Promise<number | null>;
  output: string;
  url: string;
}

export interface TandemNodesOptions {
  readonly dir: string;
  readonly config: object;
  readonly natsUrls: readonly string[];
  readonly count: number;
  readonly ports: readonly number[];
  /** Extra `tandem serve` flags for every node. */
  readonly flags?: readonly string[];
  /** Nodes started at once (the first ones); the others wait for {@link TandemNodes.startNode}. Default: all. */
  readonly startCount?: number;
  /** Told each node's process id as soon as it is spawned, before it runs much (a benchmark moves it into a CPU cgroup). */
  readonly onSpawn?: (i: number, pid: number) => void;
}

export class TandemNodes {
  readonly #nodes: NodeProcess[];
  readonly #configFile: string;

  private constructor(private readonly options: TandemNodesOptions, configFile: string) {
    this.#configFile = configFile;
    this.#nodes = options.ports.map((port) => ({ child: undefined, exited: Promise.resolve(null), output: '', url: `http://127.0.0.1:${port}` }));
  }

  /** Writes the config and starts every node, resolving once each one serves HTTP. */
  static async start(options: TandemNodesOptions): Promise<TandemNodes> {
    const configFile = join(options.dir, 'tandem.config.json');
    await writeFile(configFile, JSON.stringify(options.config));
    const nodes = new TandemNodes(options, configFile);
    try {
      await Promise.all(options.ports.slice(0, options.startCount ?? options.ports.length).map((_, i) => nodes.startNode(i)));
    } catch (error) {
      await nodes.stop();
      throw error;
    }
    return nodes;
  }

  /** Node `i`'s process id while it runs. */
  pid(i: number): number | undefined {
    return this.isRunning(i) ? this.#nodes[i]!.child!.pid : undefined;
  }

  get urls(): string[] {
    return this.#nodes.map((n) => n.url);
  }

  name(i: number): string {
    return `node${i}`;
  }

  isRunning(i: number): boolean {
    const pid = this.#nodes[i]?.child?.pid;
    return pid !== undefined && running.has(pid);
  }

  /** Starts node `i` (again) on its data directory and port; resolves once it answers /healthz. */
  async startNode(i: number, timeoutMs = 120_000): Promise<void> {
    const node = this.#nodes[i]!;
    const data = join(this.options.dir, `data${i}`);
    await mkdir(data, { recursive: true });
    // Without NATS URLs the node is the embedded engine: the baseline benchmarks compare against.
    const cluster = this.options.natsUrls.length === 0 ? [] : ['--nats', this.options.natsUrls.join(','), '--node', this.name(i)];
    const args = [
      BIN, 'serve', '--config', this.#configFile, '--data', data, '--port', String(this.options.ports[i]), ...cluster,
      // TANDEM_TEST_NODE_LOG_LEVEL=info (with TANDEM_TEST_NODE_LOGS) tells what each node did, for a run that failed.
      '--log-level', process.env.TANDEM_TEST_NODE_LOG_LEVEL ?? 'warn', ...(this.options.flags ?? []),
    ];
    const child = spawn(process.execPath, args, { detached: true, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.output = '';
    const pid = child.pid!;
    running.add(pid);
    this.options.onSpawn?.(i, pid);
    // For a long run that failed: every line of each node, kept whole in a file of its own.
    const logDir = process.env.TANDEM_TEST_NODE_LOGS;
    const append = (d: Buffer) => {
      node.output = (node.output + d.toString()).slice(-20_000);
      if (logDir !== undefined) appendFileSync(join(logDir, `node${i}-${pid}.log`), d);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    node.exited = new Promise((resolve) => child.once('exit', (code) => {
      running.delete(pid);
      resolve(code);
    }));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!running.has(pid)) throw new Error(`node ${i} exited while starting:\n${node.output}`);
      const ok = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`node ${i} did not serve within ${timeoutMs} ms:\n${node.output}`);
  }

  /** Sends `signal` to node `i`'s process group. */
  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.#nodes[i]?.child?.pid;
    if (pid === undefined || !running.has(pid)) throw new Error(`node ${i} is not running`);
    process.kill(-pid, signal);
  }

  /** Waits for node `i`'s process to exit. */
  exited(i: number): Promise<number | null> {
    return this.#nodes[i]!.exited;
  }

  output(i: number): string {
    return this.#nodes[i]!.output;
  }

  /** Stops node `i` cleanly (SIGTERM) and waits for it. */
  async stopNode(i: number): Promise<number | null> {
    if (this.isRunning(i)) this.kill(i, 'SIGTERM');
    return this.#nodes[i]!.exited;
  }

  /** Kills every node's process group (stopped ones too) and waits for them. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.#nodes.length; i++) {
      if (!this.isRunning(i)) continue;
      try {
        this.kill(i, 'SIGKILL');
      } catch { /* gone */ }
    }
    await Promise.all(this.#nodes.map((n) => n.exited));
  }
}
