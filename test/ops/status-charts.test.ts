// The status page's charts in headless Chromium (driven over the DevTools pipe, test/ops/cdp.ts):
// two `kdmq serve` processes on fresh loopback addresses; the page of node A is loaded once, then
// REGISTERs are sent to A, and without a reload (a mark set in the page survives) the charts show
// them: the REGISTER/s chart's window total and the bindings chart's last value equal the exact
// counts (and the node's own registrar:accepted_regs), KDMQ sent per channel shows usrloc, the
// membership timeline shows node B's change. Screenshots at desktop size, phone size (no
// horizontal scrolling) and in dark mode are written under /tmp and checked: the chart's line
// colour is drawn inside the chart, the dark background is dark.
// Needs Debian's `chromium`; skipped with the reason otherwise.
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { WaitAbortError, waitFor } from '../support/wait.ts';
import { Browser, CHROMIUM } from './cdp.ts';
import { rpcCall, serveProc, type ServeProc } from './helpers.ts';
import { countColour, decodePng, hex, pixel } from './png.ts';
import { sendRegister } from './sip-register.ts';

const have = existsSync(CHROMIUM);
if (!have) console.warn(`status-charts.test.ts skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

const procs: ServeProc[] = [];
let browser: Browser | null = null;
afterAll(async () => {
  await browser?.close();
  for (const p of procs) await p.cleanup();
});

interface ChartState {
  mark: number | undefined;
  polls: number;
  regTotal: number;
  regPoints: number;
  regSamples: number;
  bindingsLast: number;
  sentSeries: Record<string, number>;
  changes: number;
  lanes: number;
}

const STATE = `(() => {
  const f = (id) => document.getElementById(id);
  const pts = (id) => [...f(id).querySelectorAll('polyline')].reduce((a, p) => ({ ...a, [p.dataset.series]: Number(p.dataset.points) }), {});
  return { mark: window.__kdmqMark, polls: Number(document.body.dataset.seriesPolls || 0),
    regTotal: Number(f('chart-registers').dataset.total || 0), regPoints: Object.values(pts('chart-registers'))[0] || 0, regSamples: Number(f('chart-registers').dataset.samples || 0),
    bindingsLast: Number(f('chart-bindings').dataset.last || 0), sentSeries: pts('chart-sent'),
    changes: Number(f('chart-membership').dataset.changes || 0), lanes: Number(f('chart-membership').dataset.lanes || 0) };
})()`;

/** the registers chart's plot area in CSS pixels */
const PLOT_RECT = `(() => { const r = document.querySelector('#chart-registers .plot').getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; })()`;

async function redrawn(b: Browser, after: number): Promise<void> {
  await waitFor(async () => (await b.eval<ChartState>(STATE)).polls >= after + 2, { timeoutMs: 10_000, what: 'two more chart polls' });
}

async function shot(b: Browser, file: string, scale: number, colour: string) {
  const png = await b.screenshot();
  writeFileSync(file, png);
  const img = decodePng(png);
  const r = await b.eval<{ x: number; y: number; w: number; h: number }>(PLOT_RECT);
  const rect = { x: r.x * scale, y: r.y * scale, w: r.w * scale, h: r.h * scale };
  return { img, rect, linePixels: countColour(img, rect, hex(colour)) };
}

describe.skipIf(!have)('status page charts in headless Chromium', () => {
  it('REGISTERs show up in the charts without a reload; desktop, phone and dark screenshots', { timeout: 120_000 }, async () => {
    const [ipA, ipB] = allocLoopbackIps(2);
    const [portA, portB] = [await freeTcpPort(ipA), await freeTcpPort(ipB)];
    const cfg = (ip: string, others: string[]) => ({
      listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
      dmq: { server_address: `sip:${ip}:5090`, notification_address: others, ping_interval: 2 },
      dmq_usrloc: { enable: true },
    });
    const a = serveProc(cfg(ipA, []), `${ipA}:${portA}`);
    procs.push(a);
    const b = serveProc(cfg(ipB, [`sip:${ipA}:5090`]), `${ipB}:${portB}`);
    procs.push(b);
    await waitFor(async () => {
      for (const p of procs) if (p.exited()) throw new WaitAbortError(`node exited: ${p.err()}`);
      const list = (await rpcCall(a.rpcUrl, 'dmq.list_nodes').catch(() => [])) as Array<{ status: string }>;
      return list.length === 2 && list.every((n) => n.status === 'active');
    }, { timeoutMs: 30_000, what: 'node A lists B active' });

    browser = await Browser.launch();
    const br = browser;
    await br.screen(1200, 1000);
    await br.navigate(`${a.base}/`);
    await waitFor(async () => ((await br.eval<ChartState>(STATE).catch(() => null))?.polls ?? 0) > 0, { timeoutMs: 20_000, what: 'the page drew its charts' });
    await br.eval('window.__kdmqMark = 42');
    const before = await br.eval<ChartState>(STATE);
    expect(before).toMatchObject({ mark: 42, regTotal: 0, bindingsLast: 0 });

    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    for (const user of users) expect(await sendRegister({ ip: ipA, user })).toBe('SIP/2.0 200 OK');

    const after = await waitFor(async () => {
      const s = await br.eval<ChartState>(STATE);
      // and a second 5 s bucket began: the line has two vertices (a fresh node's first bucket has one)
      return s.regTotal === users.length && s.bindingsLast === users.length && (s.sentSeries.usrloc ?? 0) > 0 && s.regPoints >= 2 ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the charts show the REGISTERs' });
    expect(after.mark).toBe(42); // the same document: updated live, never reloaded
    expect(after.regSamples).toBeGreaterThan(before.regSamples); // new samples appended
    expect(after.regPoints).toBeGreaterThanOrEqual(2);
    expect(after.changes).toBeGreaterThanOrEqual(1); // B's pending → active
    expect(after.lanes).toBe(1);
    const stats = (await rpcCall(a.rpcUrl, 'stats.get_statistics', ['registrar:accepted_regs', 'usrloc:location_contacts'])) as string[];
    expect(stats).toEqual([`registrar:accepted_regs = ${users.length}`, `usrloc:location_contacts = ${users.length}`]);

    // desktop: the REGISTER/s line (light --c0 #0072b2) is drawn inside its chart
    const desk = await shot(br, '/tmp/kdmq-status-desktop.png', 1, '#0072b2');
    expect([desk.img.width, desk.img.height]).toEqual([1200, 1000]);
    expect(desk.linePixels).toBeGreaterThan(20);

    // phone-sized: 390 CSS px wide at 2x, nothing wider than the screen
    await br.screen(390, 844, 2, true);
    await redrawn(br, (await br.eval<ChartState>(STATE)).polls);
    expect(await br.eval<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const phone = await shot(br, '/tmp/kdmq-status-phone.png', 2, '#0072b2');
    expect(phone.img.width).toBe(780);
    expect(phone.rect.w).toBeLessThanOrEqual(780);
    expect(phone.linePixels).toBeGreaterThan(20);

    // dark mode: dark background, the dark palette's --c0 (#56b4e9) for the line
    await br.screen(1200, 1000);
    await br.colorScheme('dark');
    await redrawn(br, (await br.eval<ChartState>(STATE)).polls);
    const dark = await shot(br, '/tmp/kdmq-status-dark.png', 1, '#56b4e9');
    expect(pixel(dark.img, 3, 3)).toEqual(hex('#121417'));
    expect(dark.linePixels).toBeGreaterThan(20);
    expect((await br.eval<ChartState>(STATE)).mark).toBe(42);
  });
});
