// Known Kamailio findings from real captures (issue #20 item 4): real Kamailio 5.6.3 clusters on
// loopback, recorded by dumpcap, replayed by `kdmq replay CAPTURE --check`, which flags each of
// the weaknesses kdmq's docs list (docs/differences-from-kamailio.md, specs/membership.md):
// (a) a dead node never disabled with IP notification addresses (INV-01), (b) the ghost node,
// removed and re-created active from another node's list (INV-01), (c) the node list that
// deadlocks DMQ (INV-07, the receiver silent after it). Every node's timeline is printed. Every
// process is started and stopped by PID, on fresh loopback IPs; skipped with the reason when
// Kamailio or dumpcap is absent.

import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { waitFor } from '../support/wait.ts';
import { KDMQ, spawnProc, type Proc } from '../ops/helpers.ts';
import { importCapture } from '../../src/trace/import.ts';
import { buildHistory } from '../../src/trace/history.ts';
import { checkCapture, type Verdict } from '../../src/trace/replay-check.ts';

const kam = kamailioAvailable();
const dumpcap = spawnSync('dumpcap', ['-v']).error === undefined;
const skip = !kam.ok || !dumpcap;
if (!kam.ok) console.warn(`[replay findings] skipped: ${kam.reason}`);
else if (!dumpcap) console.warn('[replay findings] skipped: dumpcap is not installed (Debian package tshark / wireshark-common)');

const dirs: string[] = [];
const nodes: KamailioNode[] = [];
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) if (!p.exited()) (p.kill('SIGTERM'), await p.wait(5000).catch(() => p.kill('SIGKILL')));
  for (const n of nodes) await n.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** dumpcap on lo for these IPs, writing pcapng */
async function capture(ips: string[]): Promise<{ file: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-findings-'));
  dirs.push(dir);
  const file = join(dir, 'capture.pcapng');
  const dc = spawnProc('dumpcap', ['-q', '-i', 'lo', '-f', `udp and (${ips.map((ip) => `host ${ip}`).join(' or ')})`, '-w', file]);
  procs.push(dc);
  await waitFor(() => existsSync(file) || (dc.exited() ? Promise.reject(new Error(`dumpcap exited: ${dc.err()}`)) : false), { what: 'dumpcap capturing', timeoutMs: 10_000 });
  return { file, stop: async () => void (dc.kill('SIGTERM'), await dc.wait(10_000)) };
}

/** the blocks dumpcap has written whole so far */
function soFar(file: string): Buffer {
  const buf = readFileSync(file);
  if (buf.length < 12) return buf.subarray(0, 0);
  const le = buf.readUInt32LE(8) === 0x1a2b3c4d;
  let off = 0;
  while (off + 12 <= buf.length) {
    const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    if (len < 12 || off + len > buf.length) break;
    off += len;
  }
  return buf.subarray(0, off);
}

/** --check's verdicts on the capture so far, once `ok` holds for them (polled against a deadline) */
async function verdictsWhen(file: string, what: string, ok: (vs: Verdict[]) => boolean, timeoutMs = 120_000): Promise<Verdict[]> {
  return waitFor(() => {
    const r = importCapture(soFar(file));
    if (!r.ok) return undefined;
    const vs = checkCapture(buildHistory(r.trace));
    return ok(vs) ? vs : undefined;
  }, { what, timeoutMs, intervalMs: 1000 });
}

const inv = (vs: Verdict[], id: string) => vs.find((v) => v.inv === id)!;
const replayCheck = (file: string) => spawnSync(process.execPath, [KDMQ, 'replay', file, '--check'], { encoding: 'utf8', timeout: 60_000 });

async function start(ip: string, peers: string[], o: { pingInterval?: number; frTimerMs?: number } = {}): Promise<KamailioNode> {
  const n = await startKamailio({ ip, notificationAddresses: peers.map((p) => `sip:${p}:5090`), children: 2, pingInterval: o.pingInterval ?? 5, frTimerMs: o.frTimerMs ?? 3000 });
  nodes.push(n);
  return n;
}

async function formed(ns: KamailioNode[]): Promise<void> {
  await waitFor(async () => {
    for (const n of ns) {
      const l = await n.listNodes();
      if (!ns.every((o) => l.some((x) => x.host === o.ip && x.status === 'active'))) return false;
    }
    return true;
  }, { what: 'the Kamailio nodes list each other active', timeoutMs: 60_000, intervalMs: 300 });
}

describe.skipIf(skip)('kdmq replay --check on captures of real Kamailio 5.6.3 clusters', () => {
  it('(a) a killed node with IP notification addresses is never disabled: INV-01 FAIL, every node\'s timeline printed', { timeout: 180_000 }, async () => {
    const [a, b, c] = allocLoopbackIps(3);
    // Kamailio's default fr_timer (30 s) against a 5 s ping: a survivor's time-out sets node3 pending while the other still lists it active
    const na = await start(a, [b, c], { frTimerMs: 30_000 });
    const nb = await start(b, [a, c], { frTimerMs: 30_000 });
    const nc = await start(c, [a, b], { frTimerMs: 30_000 });
    await formed([na, nb, nc]);
    const cap = await capture([a, b, c]);
    await nc.kill();
    const vs = await verdictsWhen(cap.file, 'INV-01: a survivor lists the dead node active after its time-out', (v) => inv(v, 'INV-01').violations.some((x) => x.text.includes('a dead node never disabled')));
    await cap.stop();
    expect(inv(vs, 'INV-07').verdict).toBe('pass');
    const r = replayCheck(cap.file);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout.match(/^== node\d /gm)).toEqual(['== node1 ', '== node2 ', '== node3 ']);
    expect(r.stdout).toMatch(/^INV-01 FAIL at frame #\d+ /m);
    expect(r.stdout).toMatch(new RegExp(`node[12] lists node3 active at [\\d:.]+ although its KDMQ notification_peer to it \\(sent [\\d:.]+\\) went unanswered .* a dead node never disabled`));
    console.info(`[replay findings] (a)\n${r.stdout}`);
  });

  it('(b) the ghost node: removed by one node, re-created active from a slower node\'s list: INV-01 FAIL', { timeout: 180_000 }, async () => {
    const [a, b, c] = allocLoopbackIps(3);
    // a: node3 is no notification address (disabled, then deleted, within seconds); b: slow (ping 10 s, fr_timer 30 s) keeps listing it.
    // The capture starts first: the startups show each node's notification addresses
    const cap = await capture([a, b, c]);
    const na = await start(a, [b], { pingInterval: 5, frTimerMs: 2000 });
    const nb = await start(b, [a, c], { pingInterval: 10, frTimerMs: 30_000 });
    const nc = await start(c, [a, b]);
    await formed([na, nb, nc]);
    await nc.kill();
    const vs = await verdictsWhen(cap.file, 'INV-01: a ghost node on node1', (v) => inv(v, 'INV-01').violations.some((x) => x.text.includes('a ghost node')));
    await cap.stop();
    const ghost = inv(vs, 'INV-01').violations.find((x) => x.text.includes('a ghost node'))!;
    expect(ghost.text).toMatch(/^node1 lists node3 active at .* a ghost node: node3 is no notification address of node1 \(its startup went to node2 only\), so 5\.6\.3 disabled it, deleted it at the next time-out and re-created it active from another node's list/);
    const r = replayCheck(cap.file);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('a ghost node: node3 is no notification address of node1');
    console.info(`[replay findings] (b)\n${r.stdout}`);
  });

  it('(c) a node list without its last CRLF deadlocks a 5.6.3 node\'s DMQ: INV-07 FAIL, the node silent after it', { timeout: 180_000 }, async () => {
    const [a, b, x] = allocLoopbackIps(3);
    const na = await start(a, [b]);
    const nb = await start(b, [a]);
    await formed([na, nb]);
    const cap = await capture([a, b, x]);
    const body = `sip:${x}:5090;status=active`; // no CRLF: 5.6.3 cuts the last character ("activ"), fails the list and keeps the lock
    const msg = [`KDMQ sip:notification_peer@${b}:5090 SIP/2.0`, `Via: SIP/2.0/UDP ${x}:5090;branch=z9hG4bKbadlist1`, `To: <sip:notification_peer@${b}:5090>`,
      `From: <sip:notification_peer@${x}:5090>;tag=badlist1`, 'CSeq: 10 KDMQ', `Call-ID: badlist-1@${x}`, `Content-Length: ${body.length}`, 'Max-Forwards: 1', 'Content-Type: text/plain', '', body].join('\r\n');
    const s = createSocket('udp4');
    await new Promise<void>((res) => s.bind(5090, x, () => res()));
    await new Promise<void>((res, rej) => s.send(msg, 5090, b, (e) => (e ? rej(e) : res())));
    s.close();
    // the lock is held: an htable write, which broadcasts over DMQ, hangs (dmq.list_nodes reads without the lock)
    await waitFor(async () => (await nb.kamcmd('htable.sets', 'lab', 'probe', 'x')).timedOut, { what: 'kamcmd htable.sets hangs on the locked node', timeoutMs: 30_000, intervalMs: 500 });
    const vs = await verdictsWhen(cap.file, 'INV-07 with the receiver silent for 15 s after it', (v) => inv(v, 'INV-07').violations.some((y) => /sent no DMQ datagram in the (1[5-9]|[2-9]\d)\.\d s of capture after it/.test(y.text)));
    await cap.stop();
    expect(inv(vs, 'INV-07').violations[0].text).toMatch(new RegExp(`^${x.replace(/\./g, '\\.')}:5090 → ${b.replace(/\./g, '\\.')}:5090: unsafe node-list body in KDMQ: "sip:${x.replace(/\./g, '\\.')}:5090;status=active"; node2 sent no DMQ datagram`));
    const r = replayCheck(cap.file);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^INV-07 FAIL at frame #\d+ /m);
    expect(r.stdout).toContain('(the node-list lock-up of kamailio-dmq-protocol.md §8 #1)');
    console.info(`[replay findings] (c)\n${r.stdout}`);
    expect(na.alive()).toBe(true);
  });
});
