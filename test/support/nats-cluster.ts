/**
 * A real 3-server NATS cluster with JetStream on loopback, for the cluster
 * tests: the machine's `nats-server`, free ports for clients and routes, a
 * store directory per server in a temporary directory, a generated config
 * file per server. Each server runs in its own process group, so `kill`
 * reaches it alone and `stop` reaches all of them, also when a test fails
 * (and, as a last resort, when the test process exits).
 *
 * Where `nats-server` is missing, {@link natsSkipReason} says so and the tests
 * skip; under TANDEM_REQUIRE_SERVICES=1 (CI) it throws instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { after, before } from 'node:test';

/** Where `nats-server` is looked for: NATS_SERVER, then Debian's path, then PATH. */
export function natsServerPath(): string | undefined {
  const candidates = [process.env.NATS_SERVER, '/usr/sbin/nats-server', ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nats-server'))];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '' || candidate === 'nats-server') continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

/** `false` when a cluster can be started; otherwise the reason to skip. Throws when CI requires the server. */
export function natsSkipReason(): string | false {
  if (natsServerPath() !== undefined) return false;
  const reason = 'SKIPPED: nats-server is not installed (apt-get install -y nats-server, or set NATS_SERVER to its path)';
  if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`);
  console.warn(reason);
  return reason;
}

export interface NatsClusterOptions {
  /** Servers in the cluster. Default 3. */
  readonly size?: number;
  /** How long to wait for JetStream and its meta leader. Default 60 s: on a busy machine an election can take a while. */
  readonly readyTimeoutMs?: number;
  /** A user and password every client must give (the servers' `authorization` block). Default none. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The servers' `max_payload` in bytes. Default nats-server's (1 MiB). */
  readonly maxPayload?: number;
}

interface Server {
  readonly name: string;
  readonly clientPort: number;
  readonly configFile: string;
  readonly logFile: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
}

/** How long a server may take to serve JetStream with a meta leader, at start and after a restart. */
const READY_TIMEOUT_MS = 60_000;

/** Every process group any cluster of this process started and has not seen exit: killed on exit, whatever happened. */
const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch { /* gone */ }
  }
});

export class NatsCluster {
  readonly #binary: string;
  readonly #servers: Server[];
  readonly #dir: string;
  /** The credentials this harness's own connections give. */
  readonly #auth: { readonly user?: string; readonly pass?: string };
  #stopped = false;

  private constructor(binary: string, dir: string, servers: Server[], auth: { readonly user?: string; readonly pass?: string }) {
    this.#binary = binary;
    this.#auth = auth;
    this.#dir = dir;
    this.#servers = servers;
  }

  /** Starts the servers and resolves once JetStream answers on each of them with a meta leader elected. */
  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const binary = natsServerPath();
    if (binary === undefined) throw new Error('nats-server is not installed');
    const size = options.size ?? 3;
    const dir = await mkdtemp(join(tmpdir(), 'tandem-nats-'));
    const ports = await freePorts(size * 2);
    const routePorts = ports.slice(size);
    const servers: Server[] = [];
    for (let i = 0; i < size; i++) {
      const name = `n${i}`;
      const store = join(dir, name);
      await mkdir(store);
      const routes = routePorts.filter((_, j) => j !== i).map((port) => `"nats-route://127.0.0.1:${port}"`);
      const config = [
        `server_name: "${name}"`,
        `listen: "127.0.0.1:${ports[i]}"`,
        ...(options.maxPayload === undefined ? [] : [`max_payload: ${options.maxPayload}`]),
        ...(options.auth === undefined ? [] : [`authorization { user: ${JSON.stringify(options.auth.user)}, password: ${JSON.stringify(options.auth.pass)} }`]),
        `jetstream {`,
        `  store_dir: "${store}"`,
        `  max_memory_store: 268435456`,
        `  max_file_store: 4294967296`,
        `}`,
        // JetStream refuses a cluster block without routes: one server runs standalone.
        ...(size === 1 ? [] : [
          `cluster {`,
          `  name: "tandem_test"`,
          `  listen: "127.0.0.1:${routePorts[i]}"`,
          `  routes: [${routes.join(', ')}]`,
          `}`,
        ]),
        '',
      ].join('\n');
      const configFile = join(dir, `${name}.conf`);
      await writeFile(configFile, config);
      servers.push({ name, clientPort: ports[i]!, configFile, logFile: join(dir, `${name}.log`), child: undefined, exited: Promise.resolve() });
    }
    const cluster = new NatsCluster(binary, dir, servers, options.auth ?? {});
    try {
      for (let i = 0; i < size; i++) cluster.#spawn(i);
      await cluster.waitReady(options.readyTimeoutMs ?? READY_TIMEOUT_MS);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** One client URL per server, in server order. */
  get urls(): string[] {
    return this.#servers.map((s) => `nats://127.0.0.1:${s.clientPort}`);
  }

  /** Each server's JetStream store directory, in server order: where a test looks for bytes that must be gone. */
  get storeDirs(): string[] {
    return this.#servers.map((s) => join(this.#dir, s.name));
  }

  /** The server names, in server order (`n0`, `n1`, …): what stream info names a leader by. */
  get names(): string[] {
    return this.#servers.map((s) => s.name);
  }

  #spawn(i: number): void {
    const server = this.#servers[i]!;
    const log = openSync(server.logFile, 'a');
    const child = spawn(this.#binary, ['-c', server.configFile], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    server.child = child;
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    server.exited = new Promise<void>((resolve) => child.once('exit', () => {
      if (pid !== undefined) running.delete(pid);
      resolve();
    }));
  }

  /** Sends `signal` to server `i`'s process group: SIGKILL to crash it, SIGSTOP to freeze it, SIGCONT to thaw it. */
  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.#servers[i]?.child?.pid;
    if (pid === undefined || !running.has(pid)) throw new Error(`server ${i} is not running`);
    process.kill(-pid, signal);
  }

  /** Whether server `i`'s process is alive (stopped counts as alive). */
  isRunning(i: number): boolean {
    const pid = this.#servers[i]?.child?.pid;
    return pid !== undefined && running.has(pid);
  }

  /** Restarts server `i` with its config and store directory; kills it first if it still runs. */
  async restart(i: number, readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
    if (this.isRunning(i)) this.kill(i, 'SIGKILL');
    await this.#servers[i]!.exited;
    this.#spawn(i);
    await this.#waitServer(i, Date.now() + readyTimeoutMs);
  }

  /**
   * Kills every server at the same moment (`kill -9` of each process group),
   * waits for them to exit, starts them all again on their stores, and
   * resolves once JetStream answers on each: a crash of the whole cluster,
   * which one-at-a-time restarts cannot do (a lone server waits for a quorum).
   */
  async crashAll(readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await this.killAll();
    await this.restartAll(readyTimeoutMs);
  }

  /** Sends SIGKILL to every running server at once, and resolves once every one has exited. */
  async killAll(): Promise<void> {
    const killed = this.#servers.filter((_, i) => this.isRunning(i));
    for (let i = 0; i < this.#servers.length; i++) if (this.isRunning(i)) this.kill(i, 'SIGKILL');
    await Promise.all(killed.map((s) => s.exited));
  }

  /** Starts every server that is not running, and resolves once all serve JetStream. */
  async restartAll(readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
    for (let i = 0; i < this.#servers.length; i++) if (!this.isRunning(i)) this.#spawn(i);
    await this.waitReady(readyTimeoutMs);
  }

  /** The index of the server leading `stream`'s Raft group, asked until one is elected; undefined if none is within `timeoutMs`. */
  async leaderOf(stream: string, timeoutMs = 30_000): Promise<number | undefined> {
    const nc = await this.connect();
    try {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const leader = await jetstreamManager(nc, { timeout: 5_000 }).then((jsm) => jsm.streams.info(stream)).then((info) => info.cluster?.leader, () => undefined);
        const index = leader === undefined ? -1 : this.names.indexOf(leader);
        if (index !== -1) return index;
        await new Promise((r) => setTimeout(r, 200));
      }
      return undefined;
    } finally {
      await nc.close();
    }
  }

  /** A client connection to the running servers (any of them). */
  connect(): Promise<NatsConnection> {
    const servers = this.urls.filter((_, i) => this.isRunning(i));
    return connect({ ...this.#auth, servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000 });
  }

  /** Waits until every running server answers JetStream account info (which needs the meta leader). */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < this.#servers.length; i++) if (this.isRunning(i)) await this.#waitServer(i, deadline);
  }

  async #waitServer(i: number, deadline: number): Promise<void> {
    let last: unknown;
    while (Date.now() < deadline) {
      if (!this.isRunning(i)) throw new Error(`nats-server ${this.#servers[i]!.name} exited while starting:\n${this.logTail(i)}`);
      let nc: NatsConnection | undefined;
      try {
        nc = await connect({ ...this.#auth, servers: this.urls[i], timeout: 1_000, reconnect: false });
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        await nc?.close().catch(() => undefined);
      }
    }
    throw new Error(`nats-server ${this.#servers[i]!.name} did not serve JetStream in time (${String(last)}):\n${this.logTail(i)}`);
  }

  /** The end of server `i`'s log, for failure messages. */
  logTail(i: number, lines = 30): string {
    try {
      return readFileSync(this.#servers[i]!.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Kills every server's process group (stopped ones too), waits for them to exit, and removes the temporary directory. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const server of this.#servers) {
      const pid = server.child?.pid;
      if (pid === undefined || !running.has(pid)) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    await Promise.all(this.#servers.map((s) => s.exited));
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** `count` distinct free TCP ports on loopback, all held open until every one is found. */
export async function freePorts(count: number): Promise<number[]> {
  const held = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = held.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A cluster for one suite, and the connections its tests make, both closed after the suite. */
export interface SuiteCluster {
  readonly cluster: NatsCluster;
  /** A client connection, closed with the cluster after the suite. */
  connect(options: Parameters<typeof connect>[0]): Promise<NatsConnection>;
}

/** Call inside a `describe`: starts a cluster before its tests, and closes every connection and the cluster after them. */
export function clusterForSuite(): SuiteCluster {
  let started: NatsCluster | undefined;
  const connections: NatsConnection[] = [];
  before(async () => {
    started = await NatsCluster.start();
  });
  after(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await started?.stop();
  });
  return {
    get cluster() {
      if (started === undefined) throw new Error('the cluster starts in the suite\'s before hook');
      return started;
    },
    async connect(options) {
      const nc = await connect(options);
      connections.push(nc);
      return nc;
    },
  };
}
