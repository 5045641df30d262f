// Test helpers: REGISTER texts, a parsed request, and a registrar on a VirtualClock.
import { expect } from 'vitest';
import { parseMessage } from '../../src/sip/index.ts';
import type { SipRequest } from '../../src/sip/types.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { Registrar, type RegistrarConfig, type RegistrarOptions } from '../../src/registrar/registrar.ts';
import type { BindingChange } from '../../src/actors/location/store.ts';

export const T0 = 1_795_689_727_000;
export const SRC = { host: '127.0.0.20', port: 5070 };

export function register(o: {
  user?: string; domain?: string; callId?: string; cseq?: number; contacts?: string[]; expires?: number | null;
  extra?: string[];
}): string {
  const user = o.user ?? 'user1';
  const domain = o.domain ?? 'lab.local';
  const lines = [
    `REGISTER sip:${domain} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.20:5070;branch=z9hG4bK-1',
    'Max-Forwards: 70',
    `From: <sip:${user}@${domain}>;tag=t1`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: ${o.callId ?? `${user}-lab@127.0.0.20`}`,
    `CSeq: ${o.cseq ?? 1} REGISTER`,
    ...(o.contacts ?? [`<sip:${user}@127.0.0.20:5070>`]).map((c) => `Contact: ${c}`),
    ...(o.expires === null ? [] : [`Expires: ${o.expires ?? 300}`]),
    'User-Agent: sipp-lab',
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return lines.join('\r\n');
}

export function req(text: string): SipRequest {
  const m = parseMessage(text);
  if (!m.ok) throw new Error(m.error);
  expect(m.value.kind).toBe('request');
  return m.value as SipRequest;
}

export const CONFIG: RegistrarConfig = { default_expires: 3600, min_expires: 60, max_expires: 0, max_contacts: 0, use_domain: false };

export function setup(
  config: Partial<RegistrarConfig> = {},
  extraOrFn: Partial<RegistrarOptions> | ((clock: VirtualClock) => Partial<RegistrarOptions>) = {},
) {
  const clock = new VirtualClock(T0);
  const extra = typeof extraOrFn === 'function' ? extraOrFn(clock) : extraOrFn;
  const changes: BindingChange[] = [];
  const reg = new Registrar({
    clock, random: new SeededRandom('t'), config: { ...CONFIG, ...config }, nodeId: 'sip:127.0.0.11:5090',
    onChange: (c) => changes.push(c), ...extra,
  });
  const send = (o: Parameters<typeof register>[0], src = SRC) => reg.handleRegister(req(register(o)), src);
  return { clock, reg, changes, send, store: reg.store };
}

export function header(r: { headers: Array<[string, string]> }, name: string): string | undefined {
  return r.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}
