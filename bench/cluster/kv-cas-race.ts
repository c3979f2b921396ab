/**
 * Does JetStream KV's compare-and-set hold when two writers race? Two
 * connections update one key at the same expected revision, 100 times, on a
 * fresh 3-server cluster; a correct compare-and-set lets exactly one of each
 * pair through.
 *
 *   node --import tsx bench/cluster/kv-cas-race.ts 3   # bucket replicas
 *
 * On nats-server 2.9.10 (Debian's, on this machine, 2026-11-29): with 3
 * replicas 32 of 100 pairs both succeeded; with 1 replica none did. So the
 * batch lease keeps its record in a single-replica bucket (docs/cluster.md).
 */
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { NatsCluster } from '../../test/support/nats-cluster.ts';
const cluster = await NatsCluster.start();
try {
  const a = await connect({ servers: cluster.urls }); const b = await connect({ servers: cluster.urls.slice().reverse() });
  const ka = await new Kvm(a).create('probe', { replicas: Number(process.argv[2] ?? 3), history: 1, allow_direct: false });
  const kb = await new Kvm(b).open('probe');
  let rev = await ka.create('k', 'v0');
  let doubles = 0, singles = 0, none = 0;
  for (let i = 0; i < 100; i++) {
    const res = await Promise.allSettled([ka.update('k', `a${i}`, rev), kb.update('k', `b${i}`, rev)]);
    const ok = res.filter((r) => r.status === 'fulfilled');
    if (ok.length === 2) doubles++; else if (ok.length === 1) singles++; else none++;
    rev = (await ka.get('k'))!.revision;
  }
  console.log(JSON.stringify({ replicas: process.argv[2] ?? 3, doubles, singles, none }));
  await a.close(); await b.close();
} finally { await cluster.stop(); }
