/**
 * A fixed-rate HTTP client with sub-millisecond latencies. autocannon reports
 * whole milliseconds, which cannot show whether a p99 is under 2 ms; this
 * sends the same request at a fixed rate over keep-alive connections and times
 * each one with `performance.now()`, from the moment it is handed to the
 * connection pool to the end of its response (a request waiting for a free
 * connection counts that wait, as it would for a real client).
 */
import { Agent, request } from 'node:http';
import { percentiles, type Percentiles } from './compare/stats.ts';

export interface FixedRateResult extends Percentiles {
  /** Requests answered per second. */
  readonly rate: number;
}

export interface FixedRateOptions {
  readonly url: string;
  readonly body: string;
  readonly rate: number;
  readonly seconds: number;
  readonly connections: number;
}

export async function fixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  const answers: Promise<void>[] = [];
  const started = performance.now();
  try {
    for (let sent = 0; sent < total;) {
      // Timers fire at best every millisecond: send everything that has come due since the last tick.
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate) + 1);
      for (; sent < due; sent++) answers.push(send(agent, options).then((ms) => void latencies.push(ms)));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(answers);
  } finally {
    agent.destroy();
  }
  return { ...percentiles(latencies), rate: total / ((performance.now() - started) / 1000) };
}

function send(agent: Agent, options: FixedRateOptions): Promise<number> {
  const begun = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(options.url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - begun) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
