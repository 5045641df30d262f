// The control sockets from the config (src/control/local-control.ts): ctl's socket strings as its
// modparam reads them, modes and owners, every refusal one line naming the key (kdmq serve exits 2
// with it), and the sockets not yet driven elsewhere: BINRPC over a unix datagram socket,
// JSON-RPC over UDP. In a fresh temp dir on loopback.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCtlSocket } from '../../src/control/binrpc/socket-spec.ts';
import { octalDigits, resolveGroup, resolveUser } from '../../src/control/unix-perms.ts';
import { localControlConfigError, startLocalControl } from '../../src/control/local-control.ts';
import { decodePacket, encodePacket } from '../../src/control/binrpc/codec.ts';
import { openUnixDgram } from '../../src/control/unix-dgram.ts';
import { createRegistry, register } from '../../src/control/rpc.ts';
import { silentLog } from '../../src/ports/log.ts';
import { allocLoopbackIps, freeTcpPort, freeUdpPort } from '../support/loopback.ts';
import { dgramRpc } from '../support/jsonrpc-local-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-lc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const reg = createRegistry();
register(reg, 'core.version', 'v', () => 'kdmq test');
const J = { fifo_name: '', fifo_mode: 660, fifo_reply_dir: '/tmp/', dgram_socket: '', dgram_mode: 660 };

describe('ctl socket strings', () => {
  it('reads the forms of the binrpc modparam', () => {
    expect(parseCtlSocket('unix:/run/k/ctl')).toEqual({ proto: 'unix', path: '/run/k/ctl', text: 'unix:/run/k/ctl' });
    expect(parseCtlSocket('unixs:/run/k/ctl')).toMatchObject({ proto: 'unix', path: '/run/k/ctl' });
    expect(parseCtlSocket('unixd:/run/k/ctl')).toMatchObject({ proto: 'unixd', path: '/run/k/ctl' });
    expect(parseCtlSocket('/run/k/ctl')).toMatchObject({ proto: 'unix', path: '/run/k/ctl' });
    expect(parseCtlSocket('tcp:127.0.0.1:2046')).toMatchObject({ proto: 'tcp', host: '127.0.0.1', port: 2046 });
    expect(parseCtlSocket('tcp:2046')).toMatchObject({ proto: 'tcp', host: '0.0.0.0', port: 2046 });
    expect(parseCtlSocket('udp:127.0.0.1')).toMatchObject({ proto: 'udp', host: '127.0.0.1', port: 2049 });
    expect(parseCtlSocket('127.0.0.1:2047')).toMatchObject({ proto: 'udp', host: '127.0.0.1', port: 2047 });
    expect(parseCtlSocket('tcp:[::1]:2048')).toMatchObject({ proto: 'tcp', host: '::1', port: 2048 });
    expect(parseCtlSocket('tcp:127.0.0.1:99999')).toMatch(/bad port/);
    expect(parseCtlSocket('unix:')).toMatch(/no address/);
    expect(parseCtlSocket(`unix:/${'x'.repeat(120)}`)).toMatch(/at most 104 bytes/);
  });

  it('modes as octal digits, owners by name or number', () => {
    expect(octalDigits(600, 'ctl.mode')).toBe(0o600);
    expect(octalDigits(660, 'ctl.mode')).toBe(0o660);
    expect(octalDigits(384, 'ctl.mode')).toMatch(/config key ctl.mode: expected octal digits/);
    expect(resolveUser('root', 'ctl.user')).toBe(0);
    expect(resolveUser('1234', 'ctl.user')).toBe(1234);
    expect(resolveUser('no-such-user-kdmq', 'ctl.user')).toMatch(/config key ctl.user: no user "no-such-user-kdmq"/);
    expect(resolveGroup('root', 'ctl.group')).toBe(0);
  });
});

describe('startLocalControl', () => {
  it('the config is checked before anything opens (kdmq serve exits 2 before binding SIP)', () => {
    expect(localControlConfigError({})).toBeNull();
    expect(localControlConfigError({ ctl: { binrpc: ['tcp:1.2.3.4:2046', 'unix:/x'], mode: 660 } })).toBeNull();
    expect(localControlConfigError({ ctl: { binrpc: ['udp:'], mode: 600 } })).toMatch(/^config key ctl.binrpc: "udp:": no address/);
    expect(localControlConfigError({ jsonrpcs: { ...J, dgram_socket: '/x', dgram_mode: 8 } })).toMatch(/^config key jsonrpcs.dgram_mode/);
    expect(localControlConfigError({ jsonrpcs: { ...J, fifo_name: '/x', fifo_group: 'no-such-group-kdmq' } })).toMatch(/^config key jsonrpcs.fifo_group/);
  });

  it('refuses bad keys and unusable paths with one line naming the key', async () => {
    const fail = async (cfg: Parameters<typeof startLocalControl>[1]) => startLocalControl(reg, cfg, silentLog).then(
      async (c) => (await c.close(), 'started'),
      (e: Error) => e.message,
    );
    expect(await fail({ ctl: { binrpc: ['tcp:127.0.0.1:x'], mode: 600 } })).toMatch(/^config key ctl.binrpc: "tcp:127.0.0.1:x": bad port/);
    expect(await fail({ ctl: { binrpc: [`unix:${dir}/a`], mode: 900 } })).toMatch(/^config key ctl.mode: expected octal digits/);
    expect(await fail({ ctl: { binrpc: [`unix:${dir}/a`], mode: 600, user: 'no-such-user-kdmq' } })).toMatch(/^config key ctl.user/);
    writeFileSync(join(dir, 'plain'), 'not a socket');
    expect(await fail({ ctl: { binrpc: [`unix:${dir}/plain`], mode: 600 } })).toMatch(/^config key ctl.binrpc: .*plain exists and is not a socket/);
    expect(await fail({ jsonrpcs: { ...J, fifo_name: join(dir, 'plain') } })).toMatch(/^config key jsonrpcs.fifo_name: .*is not a FIFO/);
    expect(await fail({ jsonrpcs: { ...J, fifo_name: join(dir, 'no', 'such', 'fifo') } })).toMatch(/^config key jsonrpcs.fifo_name: cannot create the FIFO/);
    expect(await fail({ jsonrpcs: { ...J, dgram_socket: 'udp:127.0.0.1' } })).toMatch(/^config key jsonrpcs.dgram_socket: "udp:127.0.0.1" is not udp:IP:PORT/);
    const [ip] = allocLoopbackIps(1);
    const port = await freeTcpPort(ip);
    const first = await startLocalControl(reg, { ctl: { binrpc: [`tcp:${ip}:${port}`], mode: 600 } }, silentLog);
    // the second socket is taken: the first one of this call (a unix socket) is closed again
    expect(await fail({ ctl: { binrpc: [`unix:${dir}/b`, `tcp:${ip}:${port}`], mode: 600 } })).toMatch(/EADDRINUSE/);
    expect(() => statSync(join(dir, 'b'))).toThrow();
    await first.close();
  });

  it.skipIf(process.getuid?.() !== 0)('as root: ctl.user and ctl.group own the unix socket, jsonrpcs.fifo_user/fifo_group the FIFO', async () => {
    const c = await startLocalControl(reg, { ctl: { binrpc: [`unix:${dir}/owned`], mode: 640, user: 'nobody', group: '65534' }, jsonrpcs: { ...J, fifo_name: join(dir, 'owned.fifo'), fifo_user: '65534' } }, silentLog);
    try {
      const st = statSync(join(dir, 'owned'));
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([resolveUser('nobody', 'u'), 65534, 0o640]);
      const f = statSync(join(dir, 'owned.fifo'));
      expect([f.uid, f.gid, f.mode & 0o777]).toEqual([65534, 0, 0o660]);
    } finally {
      await c.close();
    }
  });

  it('BINRPC over a unix datagram socket and JSON-RPC over UDP', async () => {
    const [ip] = allocLoopbackIps(1);
    const udp = `udp:${ip}:${await freeUdpPort(ip)}`;
    const c = await startLocalControl(reg, { ctl: { binrpc: [`unixd:${dir}/d`], mode: 600 }, jsonrpcs: { ...J, dgram_socket: udp } }, silentLog);
    try {
      expect(c.addresses).toEqual([`unixd:${dir}/d`, udp]);
      expect(statSync(join(dir, 'd')).mode & 0o777).toBe(0o600);
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const me = openUnixDgram(join(dir, 'me'), (m) => (typeof me !== 'string' && me.close(), resolve(m)), reject);
        if (typeof me === 'string') return reject(new Error(me));
        void me.send(encodePacket({ type: 'request', cookie: 3, body: [{ t: 'str', v: 'core.version' }] }), join(dir, 'd'));
      });
      const d = decodePacket(reply);
      expect(d.ok && d.packet).toEqual({ type: 'reply', cookie: 3, body: [{ t: 'str', v: 'kdmq test' }] });
      expect(JSON.parse(await dgramRpc(udp, dir, 'core.version'))).toEqual({ jsonrpc: '2.0', result: 'kdmq test', id: 1 });
    } finally {
      await c.close();
    }
    expect(() => statSync(join(dir, 'd'))).toThrow();
  });
});
