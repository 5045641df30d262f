import { World } from '../src/sim/world.ts';
import { simIp } from '../src/sim/cluster.ts';
for (let k = 0; k < 3; k++) {
  const t = performance.now();
  const w = await World.create({ nodes: 2, seed: 'x', config: (i, ip) => ({ listen: [`udp:${ip}:5060`, `udp:${ip}:5090`], dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 }, sip: { t1: 100, kdmq_timeout: 250 }, rpc: { listen: '' } }) });
  const t1 = performance.now();
  await w.join(0); await w.join(1);
  const t2 = performance.now();
  await w.run(300);
  console.log((t1 - t).toFixed(1), (t2 - t1).toFixed(1), (performance.now() - t2).toFixed(1));
}
