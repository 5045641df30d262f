// kdmq serve --kamailio-cfg: the reader of kamailio.cfg (src/config/kamailio-cfg.ts) on the lab's
// configs and on small synthetic ones (preprocessor, includes, mapping, ignored list, errors).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mapListen, parseDefineArg, parseHtableDef, readKamailioCfg } from '../../src/config/kamailio-cfg.ts';
import { validateConfig } from '../../src/config/load.ts';
import { parseServeArgs, readConfig } from '../../src/cli/serve.ts';

const LAB = '/work/shared/lab/kamailio/configs';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function files(map: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'kdmq-kcfg-'));
  dirs.push(d);
  for (const [n, t] of Object.entries(map)) writeFileSync(join(d, n), t);
  return d;
}

function read(path: string, defs: Record<string, string> = {}) {
  const r = readKamailioCfg(path, defs);
  if (!r.ok) throw new Error(r.error);
  return r;
}

describe.skipIf(!existsSync(join(LAB, 'node1.cfg')))('the lab configs', () => {
  it('node1.cfg (includes kamailio.cfg) maps to listen, dmq, usrloc, registrar and htable keys', () => {
    const r = read(join(LAB, 'node1.cfg'));
    expect(r.files.map((f) => f.replace(/.*\//, ''))).toEqual(['node1.cfg', 'kamailio.cfg']);
    const v = validateConfig(r.config);
    if (!v.ok) throw new Error(v.error);
    const c = v.config;
    expect(c.listen).toEqual(['udp:127.0.0.11:5060', 'udp:127.0.0.11:5090']);
    expect(c.dmq.server_address).toBe('sip:127.0.0.11:5090');
    expect(c.dmq.notification_address).toEqual(['sip:127.0.0.12:5090', 'sip:127.0.0.13:5090']);
    expect(c.dmq.ping_interval).toBe(10);
    expect(c.dmq.multi_notify).toBe(false);
    expect(Object.keys(c.htable.tables)).toEqual(['lab']);
    expect(c.htable.tables.lab).toMatchObject({ size: 8, autoexpire: 0, dmqreplicate: true });
    expect(c.htable).toMatchObject({ enable_dmq: true, dmq_init_sync: true });
    expect(c.dmq_usrloc).toMatchObject({ enable: true, sync: true, batch_msg_contacts: 1 });
    expect(c.registrar).toMatchObject({ default_expires: 300, max_expires: 3600 });
    // usrloc db_mode is mapped since persistence landed (usrloc.db_mode); timer_interval too
    expect(c.usrloc).toMatchObject({ db_mode: 0 });
    expect(r.ignored).not.toContain('modparam usrloc db_mode');
    expect(r.ignored).toEqual(expect.arrayContaining(['core children', 'request_route', 'loadmodule xlog']));
    // ctl's BINRPC socket is mapped since kdmq serves BINRPC (#18): kamcmd -s unix:node1.ctl works on kdmq too
    expect(c.ctl).toEqual({ binrpc: ['unix:node1.ctl'], mode: 600 });
    expect(r.ignored).not.toContain('modparam ctl binrpc');
  });

  it('-A style defines select the variants (DISC_SEED, UL_BATCH=5, NODMQ)', () => {
    const seed = read(join(LAB, 'node2.cfg'), { DISC_SEED: '', UL_BATCH: '5' }).config as any;
    expect(seed.dmq.notification_address).toEqual(['sip:127.0.0.11:5090']);
    expect(seed.dmq.multi_notify).toBe(true);
    expect(seed.dmq_usrloc.batch_msg_contacts).toBe(5);
    const self = read(join(LAB, 'node3.cfg'), { DISC_IPLIST_SELF: '' }).config as any;
    expect(self.dmq.notification_address).toHaveLength(3);
    const solo = read(join(LAB, 'node1.cfg'), { NODMQ: '' }).config as any;
    expect(solo.listen).toEqual(['udp:127.0.0.11:5060']);
    expect(solo.dmq_usrloc.enable).toBe(false);
    expect(solo.htable.enable_dmq).toBe(false);
    expect(solo.htable.tables.lab.dmqreplicate).toBeUndefined();
  });
});

describe('preprocessor and mapping', () => {
  it('nested #!ifdef/#!ifndef/#!else, #!undef, #!trydef, comments and strings', () => {
    const d = files({
      'k.cfg': `#!KAMAILIO
#!define IP 127.0.0.5
#!define A
#!trydef IP 10.0.0.1
/* listen=udp:1.1.1.1:1
   block comment */
listen=udp:IP:5070 // trailing
#!ifdef A
#!ifndef B
modparam("dmq", "server_address", "sip:IP:5090") # IP inside a string stays
listen = IP:5090
#!else
listen=udp:2.2.2.2:1
#!endif
#!else
listen=udp:3.3.3.3:1
#!endif
#!undef A
#!ifdef A
modparam("dmq", "ping_interval", 99)
#!endif
modparam("dmq", "ping_interval", 7)
modparam("registrar", "max_contacts", 3);
modparam("usrloc", "use_domain", 1)
modparam("tm", "fr_timer", 4000)
modparam('htable', 'htable', 'a=>size=4;autoexpire=30;initval=0;dbtable=x;')
modparam("htable", "htable", "b=>size=2;")
route[FOO] { if (x) { xlog("}"); } }
`,
    });
    const r = read(join(d, 'k.cfg'));
    const c = r.config as any;
    expect(c.listen).toEqual(['udp:127.0.0.5:5070', 'udp:127.0.0.5:5090']);
    expect(c.dmq.server_address).toBe('sip:IP:5090');
    expect(c.dmq.ping_interval).toBe(7);
    expect(c.registrar.max_contacts).toBe(3);
    expect(c.registrar.use_domain).toBe(true);
    expect(c.sip.kdmq_timeout).toBe(4000);
    expect(c.htable.tables).toEqual({ a: { size: 4, autoexpire: 30, initval: '0' }, b: { size: 2 } });
    expect(r.ignored).toEqual(expect.arrayContaining(['htable a: dbtable', 'route[FOO]']));
  });

  it('include_file and import_file are relative to the including file; a missing import is skipped', () => {
    const d = files({ 'main.cfg': '#!define P 5099\nimport_file "nope.cfg"\ninclude_file "sub/inc.cfg"\n' });
    const sub = join(d, 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'inc.cfg'), 'listen=udp:127.0.0.9:P\ninclude_file "more.cfg"\n');
    writeFileSync(join(sub, 'more.cfg'), 'modparam("dmq", "notification_address", "sip:127.0.0.10:5090")\n');
    const r = read(join(d, 'main.cfg'));
    expect((r.config as any).listen).toEqual(['udp:127.0.0.9:5099']);
    expect((r.config as any).dmq.notification_address).toEqual(['sip:127.0.0.10:5090']);
  });

  it('errors name the file and line', () => {
    const d = files({ 'a.cfg': 'include_file "missing.cfg"\n', 'b.cfg': '#!ifdef X\nlisten=udp:1.2.3.4:5\n', 'c.cfg': 'modparam("dmq", "ping_interval", "often")\n' });
    const a = readKamailioCfg(join(d, 'a.cfg'));
    expect(a.ok || a.error).toMatch(/cannot read .*missing\.cfg: ENOENT/);
    const b = readKamailioCfg(join(d, 'b.cfg'));
    expect(b.ok || b.error).toMatch(/b\.cfg:1: #!ifdef\/#!ifndef without #!endif/);
    const c = readKamailioCfg(join(d, 'c.cfg'));
    expect(c.ok || c.error).toMatch(/c\.cfg:1: modparam\("dmq", "ping_interval", …\): expected an integer, got "often"/);
  });

  it('small parts', () => {
    expect(parseDefineArg('A=1')).toEqual(['A', '1']);
    expect(parseDefineArg('B')).toEqual(['B', '']);
    expect(parseDefineArg('=x')).toBeNull();
    expect(mapListen('127.0.0.1')).toBe('udp:127.0.0.1:5060');
    expect(mapListen('udp:[::1]:5070 advertise 1.2.3.4:5060')).toBe('udp:[::1]:5070');
    expect(mapListen('tcp:127.0.0.1:5060')).toBeNull();
    expect(parseHtableDef('t=>size=3;dmqreplicate=0')?.table).toEqual({ size: 3, dmqreplicate: false });
  });

  it('ctl and jsonrpcs modparams: sockets, modes as Kamailio reads them (0600 octal, 384 decimal), owners', () => {
    const d = files({
      'k.cfg': [
        'listen=udp:127.0.0.7:5090', 'loadmodule "ctl.so"', 'loadmodule "jsonrpcs.so"',
        'modparam("ctl", "binrpc", "unix:/run/kdmq/kamailio_ctl")', 'modparam("ctl", "binrpc", "tcp:127.0.0.7:2049")',
        'modparam("ctl", "mode", 0660)', 'modparam("ctl", "user", "kamailio")', 'modparam("ctl", "group", "kamailio")',
        'modparam("jsonrpcs", "fifo_name", "/run/kdmq/kamailio_rpc.fifo")', 'modparam("jsonrpcs", "fifo_mode", 384)',
        'modparam("jsonrpcs", "dgram_socket", "/run/kdmq/kamailio_rpc.sock")', 'modparam("jsonrpcs", "fifo_reply_dir", "/tmp/")',
        '',
      ].join('\n'),
    });
    const v = validateConfig(read(join(d, 'k.cfg')).config);
    if (!v.ok) throw new Error(v.error);
    expect(v.config.ctl).toEqual({ binrpc: ['unix:/run/kdmq/kamailio_ctl', 'tcp:127.0.0.7:2049'], mode: 660, user: 'kamailio', group: 'kamailio' });
    expect(v.config.jsonrpcs).toMatchObject({ fifo_name: '/run/kdmq/kamailio_rpc.fifo', fifo_mode: 600, dgram_socket: '/run/kdmq/kamailio_rpc.sock', fifo_reply_dir: '/tmp/' });
    const bad = readKamailioCfg(join(files({ 'b.cfg': 'modparam("ctl", "mode", "rw")\n' }), 'b.cfg'));
    expect(bad.ok ? '' : bad.error).toMatch(/modparam\("ctl", "mode", …\): expected a file mode such as 0600, got rw/);
  });

  it('core server_id is usrloc.server_id (through a #!define); a bad one names the line or the key', () => {
    const d = files({
      'k.cfg': '#!define SID 7\nlisten=udp:127.0.0.7:5090\nserver_id = SID\nloadmodule "usrloc.so"\nmodparam("usrloc", "db_mode", 1)\n',
      'none.cfg': 'listen=udp:127.0.0.7:5090\n',
      'bad.cfg': 'server_id=two\n',
      'neg.cfg': 'server_id=-1\n',
    });
    const r = read(join(d, 'k.cfg'));
    expect(r.config.usrloc).toEqual({ server_id: 7, db_mode: 1 });
    expect(r.ignored).not.toContain('core server_id');
    const v = validateConfig(r.config);
    if (!v.ok) throw new Error(v.error);
    expect(v.config.usrloc?.server_id).toBe(7);
    // absent: kdmq's default, Kamailio's too (0)
    const n = validateConfig(read(join(d, 'none.cfg')).config);
    expect(n.ok && n.config.usrloc?.server_id).toBe(0);
    const bad = readKamailioCfg(join(d, 'bad.cfg'));
    expect(bad.ok ? '' : bad.error).toMatch(/bad\.cfg:1: server_id: expected an integer, got two$/);
    const neg = validateConfig(read(join(d, 'neg.cfg')).config);
    expect(neg.ok ? '' : neg.error).toMatch(/^config key usrloc\.server_id: expected an integer >= 0, got -1$/);
  });

  it('serve: --kamailio-cfg, --define, then --config and --set on top', () => {
    const d = files({ 'k.cfg': '#!ifdef FAST\nmodparam("dmq", "ping_interval", 2)\n#!endif\nlisten=udp:127.0.0.7:5090\nchildren=8\n', 'o.yaml': 'rpc: { listen: "127.0.0.7:8099" }\n' });
    const args = parseServeArgs(['--kamailio-cfg', join(d, 'k.cfg'), '--define', 'FAST', '--config', join(d, 'o.yaml'), '--set', 'dmq.multi_notify=true']);
    if (typeof args === 'string') throw new Error(args);
    const r = readConfig(args);
    if (!r.ok) throw new Error(r.error);
    expect(r.config.dmq.ping_interval).toBe(2);
    expect(r.config.dmq.multi_notify).toBe(true);
    expect(r.config.rpc.listen).toBe('127.0.0.7:8099');
    expect(r.config.listen).toEqual(['udp:127.0.0.7:5090']);
    expect(r.ignored).toEqual(['core children']);
    expect(parseServeArgs(['--define', 'X'])).toMatch(/only applies with --kamailio-cfg/);
  });
});
