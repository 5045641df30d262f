// GET /metrics of a running `kdmq serve` (a process on a fresh loopback address) after REGISTERs:
// - the whole output passes `promtool check metrics` with nothing printed (no lint warnings, the
//   Node default metrics included);
// - the kamailio_ series (xhttp_prom's names) hold the exact counts of what was registered, are
//   gauges, and equal what stats.get_statistics all prints, line for line;
// - GET /series.json (the status page's samples) holds the same counts; a bad `since` is a 400.
// promtool comes from Debian's `prometheus` package; the promtool part is skipped without it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { WaitAbortError, waitFor } from '../support/wait.ts';
import { parseProm, promValue, rpcCall, serveProc, type ServeProc } from './helpers.ts';
import { sendRegister } from './sip-register.ts';

const PROMTOOL = '/usr/bin/promtool';
const havePromtool = existsSync(PROMTOOL);
if (!havePromtool) console.warn(`kamailio-metrics.test.ts: promtool check skipped: ${PROMTOOL} is absent (apt-get install prometheus)`);

const procs: ServeProc[] = [];
afterAll(async () => {
  for (const p of procs) await p.cleanup();
});

function promtool(text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('exit', (code) => (clearTimeout(t), resolve({ code, out })));
    p.stdin.end(text);
  });
}

describe('GET /metrics with Kamailio names', () => {
  it('kamailio_ gauges hold the exact counts and stats.get_statistics values; promtool finds nothing to say', { timeout: 60_000 }, async () => {
    const [ip] = allocLoopbackIps(1);
    const rpcPort = await freeTcpPort(ip);
    const p = serveProc({
      listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
      dmq: { server_address: `sip:${ip}:5090` },
      htable: { tables: { lab: { size: 4 } } },
    }, `${ip}:${rpcPort}`);
    procs.push(p);
    await waitFor(async () => {
      if (p.exited()) throw new WaitAbortError(`node exited: ${p.err()}`);
      return (await fetch(`${p.base}/metrics`).catch(() => null))?.ok;
    }, { timeoutMs: 20_000, what: 'the node answers /metrics' });

    // alice with two contacts, bob with one: 3 accepted; a To with no user: 1 rejected (400)
    expect(await sendRegister({ ip, user: 'alice', contactUser: 'alice1' })).toBe('SIP/2.0 200 OK');
    expect(await sendRegister({ ip, user: 'alice', contactUser: 'alice2' })).toBe('SIP/2.0 200 OK');
    expect(await sendRegister({ ip, user: 'bob' })).toBe('SIP/2.0 200 OK');
    expect(await sendRegister({ ip, user: '' })).toMatch(/^SIP\/2\.0 400 /);
    await rpcCall(p.rpcUrl, 'htable.sets', ['lab', 'color', 'blue']);

    const text = await (await fetch(`${p.base}/metrics`)).text();
    const fams = parseProm(text);
    const k = (n: string) => promValue(fams, `kamailio_${n}`);
    expect({
      accepted: k('registrar_accepted_regs'), rejected: k('registrar_rejected_regs'),
      users: k('usrloc_registered_users'), locUsers: k('usrloc_location_users'), contacts: k('usrloc_location_contacts'),
      items: k('htable_items'), active: k('dmq_nodes_active'), maxContacts: k('registrar_max_contacts'),
    }).toEqual({ accepted: 3, rejected: 1, users: 2, locUsers: 2, contacts: 3, items: 1, active: 0, maxContacts: 0 });
    // beside today's kdmq_ series, the same numbers
    expect(promValue(fams, 'kdmq_usrloc_bindings')).toBe(3);
    expect(promValue(fams, 'kdmq_usrloc_aors')).toBe(2);

    // every stats.get_statistics line is a kamailio_ gauge of the same value, and nothing else is
    const stats = (await rpcCall(p.rpcUrl, 'stats.get_statistics', ['all'])) as string[];
    const fromRpc = Object.fromEntries(stats.map((l) => {
      const [name, v] = l.split(' = ');
      return [`kamailio_${name.replace(':', '_').replace(/-/g, '_')}`, Number(v)];
    }));
    const kam = [...fams.values()].filter((f) => f.name.startsWith('kamailio_'));
    expect(Object.fromEntries(kam.map((f) => [f.name, f.samples[0]?.value]))).toEqual(fromRpc);
    expect(kam.every((f) => f.type === 'gauge' && f.samples.length === 1 && f.help !== '')).toBe(true);

    if (havePromtool) {
      const r = await promtool(text);
      expect(r, text).toEqual({ code: 0, out: '' });
    }

    // the status page's series (sampled every second by the serve process): the same 4 REGISTERs
    // answered, 3 bindings at the end; an incremental query; a bad `since` is a 400, not a crash
    const series = await waitFor(async () => {
      const j = (await (await fetch(`${p.base}/series.json`)).json()) as { samples: Array<{ at: number; registers: number; bindings: number }> };
      return j.samples.reduce((a, x) => a + x.registers, 0) === 4 && j.samples.at(-1)!.bindings === 3 ? j : undefined;
    }, { timeoutMs: 5000, what: 'the series show the 4 REGISTERs' });
    const last = series.samples.at(-1)!.at;
    const inc = (await (await fetch(`${p.base}/series.json?since=${last}`)).json()) as { samples: Array<{ at: number }> };
    expect(inc.samples.every((x) => x.at > last)).toBe(true);
    const bad = await fetch(`${p.base}/series.json?since=yesterday`);
    expect([bad.status, await bad.text()]).toEqual([400, 'since: a number of milliseconds\n']);
    expect(p.exited()).toBe(null);
  });
});
