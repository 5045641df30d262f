// Kamailio's JSON-RPC shapes from the store, and the lab trace register/A..E replayed: the store
// then matches `ul.dump` of the Kamailio node that took the REGISTERs (fields that do not depend
// on the node's timing: AoR, HashID, Address, Call-ID, CSeq, Q, User-Agent, Methods, and their order).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreHash, registrarStats, ulDump, ulLookup, ulRm, ulRmContact, usrlocStats } from '../../src/registrar/rpc-shapes.ts';
import { setup } from './helpers.ts';

const DIR = '/work/shared/fixtures/kamailio-traces/register';
const T_A = 1_795_689_727_000; // Last-Modified of user1 in ul_A

function replayTrace() {
  const s = setup({ default_expires: 300, max_expires: 3600 }, { save_received: false, socket: 'udp:127.0.0.11:5060' });
  s.clock.runUntil(T_A);
  const steps: Array<[number, string]> = [[T_A, 'A_users'], [1_795_689_730_000, 'B_two_contacts'], [1_795_689_731_000, 'C_unregister'], [1_795_689_733_000, 'D_changed_contact'], [1_795_689_734_000, 'E_refresh']];
  const dumps: Record<string, unknown> = {};
  for (const [at, step] of steps) {
    s.clock.runUntil(at);
    const rows = readFileSync(`${DIR}/${step}.csv`, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const [user, cseq, contacts, exp] = row.split(';');
      s.send({ user, callId: `${user}-lab@127.0.0.20`, cseq: Number(cseq), contacts: [contacts], expires: Number(exp) });
    }
    dumps[step] = ulDump(s.store, { socket: 'udp:127.0.0.11:5060' });
  }
  return { s, dumps };
}

/** the kamcmd text dump of a trace file → [AoR, HashID, Address, Call-ID, CSeq, Q, UA][] in order */
function kamcmdRows(file: string): string[][] {
  const text = readFileSync(`${DIR}/${file}`, 'utf8');
  const out: string[][] = [];
  let aor = '';
  let hash = '';
  let cur: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (m === null) continue;
    if (m[1] === 'AoR') aor = m[2];
    else if (m[1] === 'HashID') hash = m[2];
    else cur[m[1]] = m[2];
    if (m[1] === 'Last-Modified') {
      out.push([aor, hash, cur.Address, cur['Call-ID'], cur.CSeq, cur.Q, cur['User-Agent'], cur.Methods]);
      cur = {};
    }
  }
  return out;
}

function ourRows(dump: unknown): string[][] {
  const d = dump as { Domains: Array<{ Domain: { AoRs: Array<{ Info: { AoR: string; HashID: number; Contacts: Array<{ Contact: Record<string, unknown> }> } }> } }> };
  return d.Domains[0].Domain.AoRs.flatMap(({ Info }) =>
    Info.Contacts.map(({ Contact: c }) => [Info.AoR, String(Info.HashID), c.Address, c['Call-ID'], c.CSeq, c.Q, c['User-Agent'], (c.Methods as number) | 0].map(String)),
  );
}

describe('RPC shapes', () => {
  it('core hash equals Kamailio HashID', () => {
    expect([coreHash('rpcuser1'), coreHash('rpcuser2'), coreHash('user1')]).toEqual([4184817871, 4184817868, 2079352211]);
  });

  it('trace register A..E: ul.dump equals Kamailio node1 after every step', () => {
    const { dumps } = replayTrace();
    for (const step of Object.keys(dumps)) expect(ourRows(dumps[step])).toEqual(kamcmdRows(`ul_${step}_node1.txt`));
  });

  it('ul.dump / ul.lookup / stats have the captured keys', () => {
    const { s, dumps } = replayTrace();
    const d = dumps.E_refresh as { Domains: Array<{ Domain: Record<string, unknown> }> };
    expect(Object.keys(d.Domains[0].Domain)).toEqual(['Domain', 'Size', 'AoRs', 'Stats']);
    const look = ulLookup(s.store, 'user2', { socket: 'udp:127.0.0.11:5060' });
    expect('result' in look && Object.keys((look.result as { Contacts: Array<{ Contact: object }> }).Contacts[0].Contact)).toEqual([
      'Address', 'Expires', 'Q', 'Call-ID', 'CSeq', 'User-Agent', 'Received', 'Path', 'State', 'Flags', 'CFlags', 'Socket',
      'Methods', 'Ruid', 'Instance', 'Reg-Id', 'Server-Id', 'Tcpconn-Id', 'Keepalive', 'Last-Keepalive', 'KA-Roundtrip', 'Last-Modified',
    ]);
    expect(look).toMatchObject({ result: { AoR: 'user2', Contacts: [{ Contact: { Expires: 600, Methods: 4294967295, Socket: 'udp:127.0.0.11:5060', Received: '[not set]' } }] } });
    expect(ulLookup(s.store, 'nobody')).toEqual({ error: { code: 500, message: 'AOR not found in location table', kdmqCode: 'KDMQ_RPC_UL_AOR_NOT_FOUND' } });
    expect(usrlocStats(s.store)).toEqual([
      'usrloc:location_contacts = 7', 'usrloc:location_expires = 0', 'usrloc:location_users = 5', 'usrloc:registered_users = 5',
    ]);
    expect(registrarStats(s.store, s.reg.config)).toEqual([
      'registrar:accepted_regs = 9', 'registrar:default_expire = 300', 'registrar:default_expires_range = 0',
      'registrar:expires_range = 0', 'registrar:max_contacts = 0', 'registrar:max_expires = 3600', 'registrar:rejected_regs = 0',
    ]);
    expect(ulDump(s.store, { brief: true })).toMatchObject({ Domains: [{ Domain: { AoRs: [{ AoR: 'multi1' }, { AoR: 'user4' }, { AoR: 'user2' }, { AoR: 'user3' }, { AoR: 'user1' }], Stats: { Records: 5, 'Max-Slots': 1 } } }] });
  });

  it('ul.rm and ul.rm_contact remove and announce deletes', () => {
    const { s } = replayTrace();
    const before = s.changes.length;
    expect(ulRmContact(s.store, 'user1', 'sip:user1@127.0.0.20:5075')).toEqual({ result: null });
    expect(ulRmContact(s.store, 'user1', 'sip:none@x')).toEqual({ error: { code: 404, message: 'Contact not found', kdmqCode: 'KDMQ_RPC_UL_CONTACT_NOT_FOUND' } });
    expect(ulRm(s.store, 'multi1')).toEqual({ result: null });
    expect(s.changes.slice(before).map((c) => [c.kind, c.contact.aor])).toEqual([['delete', 'user1'], ['delete', 'multi1'], ['delete', 'multi1']]);
    expect(s.store.contactCount()).toBe(4);
  });
});
