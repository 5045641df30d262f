// Heap per binding of the location store (virtual actors: compact record + indexes + timer wheel).
// Run: node --expose-gc --import tsx bench/registrar-heap.ts [count]   (default 100 000)
// Bindings go through Registrar.handleRegister with parsed REGISTERs, as in production; the figure
// is (heapUsed after − before) / count after full GCs. Not a timed assertion.
import { parseMessage } from '../src/sip/index.ts';
import type { SipRequest } from '../src/sip/types.ts';
import { VirtualClock } from '../src/ports/virtual-clock.ts';
import { SeededRandom } from '../src/ports/random.ts';
import { Registrar } from '../src/registrar/registrar.ts';

const N = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

function registerText(i: number): string {
  const u = `user${i}`;
  return [
    'REGISTER sip:lab.local SIP/2.0',
    `Via: SIP/2.0/UDP 10.0.${(i >> 8) & 255}.${i & 255}:5060;branch=z9hG4bK-${i}`,
    'Max-Forwards: 70',
    `From: <sip:${u}@lab.local>;tag=${i}`,
    `To: <sip:${u}@lab.local>`,
    `Call-ID: ${i}-a84b4c76e66710@10.0.${(i >> 8) & 255}.${i & 255}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${u}@10.0.${(i >> 8) & 255}.${i & 255}:5060;transport=udp>`,
    'Expires: 3600',
    'User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

const clock = new VirtualClock(1_795_689_727_000);
let changes = 0;
const before = settle();
const rssBefore = process.memoryUsage().rss;
const reg = new Registrar({
  clock, random: new SeededRandom('heap'), nodeId: 'sip:10.0.0.1:5060',
  config: { default_expires: 3600, min_expires: 60, max_expires: 0, max_contacts: 0, use_domain: false },
  onChange: () => { changes++; },
});
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const m = parseMessage(registerText(i));
  if (!m.ok) throw new Error(m.error);
  const r = reg.handleRegister(m.value as SipRequest, { host: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 5060 });
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  if (i % 1000 === 999) clock.advance(1000); // spread expiries over buckets as real traffic does
}
const ms = performance.now() - t0;
const after = settle();
const per = (after - before) / N;
// RSS after full GCs: an upper bound (V8 keeps some freed pages of the REGISTER garbage mapped)
const rssPer = (process.memoryUsage().rss - rssBefore) / N;
console.log(JSON.stringify({
  bindings: reg.store.contactCount(), changes, heapBytesPerBinding: Math.round(per), rssBytesPerBinding: Math.round(rssPer),
  projected1M_MB: Math.round((per * 1_000_000) / 1e6), registerPerSecond: Math.round(N / (ms / 1000)),
  budgetBytes: 1024, withinBudget: per <= 1024,
}));
