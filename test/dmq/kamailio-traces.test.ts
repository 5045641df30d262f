// Every KDMQ body Kamailio 5.6.3 sent in the lab captures (protocol reference §2.2, §5.3, §6.3, §6.4)
// parses with our codecs and re-formats byte-identically. The bodies are snapshotted in
// fixtures/kamailio-bodies.json; when the raw traces are present the snapshot is checked against them.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatHtableBody, parseHtableBody } from '../../src/actors/channels/htable-body.ts';
import { formatNodeList, isSafeNodeListBody, parseNodeList } from '../../src/actors/membership/node-list-body.ts';
import { formatUsrlocBody, parseUsrlocBody } from '../../src/actors/channels/usrloc-body.ts';
import { bodiesFromTraces, snapshotBodies, TRACES_DIR } from './trace-bodies.ts';

const bodies = snapshotBodies();
const byChannel = (c: string) => bodies.filter((b) => b.channel === c);

describe('captured Kamailio bodies', () => {
  it('the snapshot covers all three channels, requests and replies', () => {
    expect(byChannel('notification_peer').length).toBeGreaterThanOrEqual(5);
    expect(byChannel('notification_peer').some((b) => b.kind === 'response')).toBe(true);
    expect(byChannel('usrloc').length).toBeGreaterThanOrEqual(10);
    expect(byChannel('htable').length).toBeGreaterThanOrEqual(5);
    expect(bodies.every((b) => ['notification_peer', 'usrloc', 'htable'].includes(b.channel))).toBe(true);
  });

  it.skipIf(!existsSync(TRACES_DIR))('the snapshot equals what the raw sip.txt traces hold', () => {
    expect(bodiesFromTraces()).toEqual(bodies);
  });

  it.each(byChannel('notification_peer').map((b) => [b.where, b] as const))('node list %s', (_w, b) => {
    expect(b.contentType).toBe('text/plain');
    const parsed = parseNodeList(b.body);
    expect(parsed.bad).toEqual([]);
    expect(parsed.nodes.length).toBeGreaterThan(0);
    const again = formatNodeList(
      parsed.nodes.map((n) => ({ host: n.host, port: n.port, transport: n.transport, status: n.status!, extraParams: n.params })),
    );
    expect(again.skipped).toEqual([]);
    expect(again.body).toBe(b.body);
    expect(isSafeNodeListBody(b.body)).toBe(true);
  });

  it.each(byChannel('usrloc').map((b) => [b.where, b] as const))('usrloc %s', (_w, b) => {
    expect(b.contentType).toBe('application/json');
    const parsed = parseUsrlocBody(b.body);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(formatUsrlocBody(parsed.value)).toBe(b.body);
  });

  it.each(byChannel('htable').map((b) => [b.where, b] as const))('htable %s', (_w, b) => {
    expect(b.contentType).toBe('application/json');
    const parsed = parseHtableBody(b.body);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(formatHtableBody(parsed.value)).toBe(b.body);
  });

  it('the captured usrloc messages include updates, deletes and sync requests', () => {
    const actions = new Set(byChannel('usrloc').map((b) => {
      const r = parseUsrlocBody(b.body);
      return r.ok && 'action' in r.value ? r.value.action : -1;
    }));
    expect([...actions].sort()).toEqual([1, 2, 3]);
  });
});
