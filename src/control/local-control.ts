// The control sockets besides HTTP, from the config: ctl.binrpc (BINRPC for kamcmd), and
// jsonrpcs.fifo_name / jsonrpcs.dgram_socket (JSON-RPC for kamctl and kamcli); each off unless
// configured, all answering from the one RPC registry. A bad key or a socket that cannot be
// opened is one Error line naming the key (`kdmq serve` exits 2 with it). An edge.

import type { KdmqConfig } from '../config/types.ts';
import type { Log } from '../ports/log.ts';
import type { RpcRegistry } from './rpc.ts';
import { isLoopbackHost } from '../config/load.ts';
import { parseCtlSocket, type CtlSocketSpec } from './binrpc/socket-spec.ts';
import { startBinrpc } from './binrpc/listen.ts';
import { startJsonrpcDgram, startJsonrpcFifo, type Closer } from './jsonrpc-local.ts';
import { permsFrom } from './unix-perms.ts';

export interface LocalControl {
  /** e.g. ["tcp:127.0.0.1:2049", "unix:/run/kdmq/ctl", "fifo:/run/kdmq/rpc.fifo"] */
  readonly addresses: string[];
  close(): Promise<void>;
}

function ctlSpecs(binrpc: string[]): CtlSocketSpec[] {
  return binrpc.map((s) => {
    const r = parseCtlSocket(s);
    if (typeof r === 'string') throw new Error(`config key ctl.binrpc: ${r}`);
    return r;
  });
}

/** the keys checked before anything is opened (kdmq serve exits 2 with this line, before binding SIP) */
export function localControlConfigError(config: Pick<KdmqConfig, 'ctl' | 'jsonrpcs'>): string | null {
  try {
    if (config.ctl && config.ctl.binrpc.length > 0) {
      ctlSpecs(config.ctl.binrpc);
      const p = permsFrom({ mode: 'ctl.mode', user: 'ctl.user', group: 'ctl.group' }, config.ctl);
      if (typeof p === 'string') return p;
    }
    const j = config.jsonrpcs;
    if (j && j.fifo_name !== '') {
      const p = permsFrom({ mode: 'jsonrpcs.fifo_mode', user: 'jsonrpcs.fifo_user', group: 'jsonrpcs.fifo_group' }, { mode: j.fifo_mode, user: j.fifo_user, group: j.fifo_group });
      if (typeof p === 'string') return p;
    }
    if (j && j.dgram_socket !== '') {
      const p = permsFrom({ mode: 'jsonrpcs.dgram_mode', user: 'jsonrpcs.dgram_user', group: 'jsonrpcs.dgram_group' }, { mode: j.dgram_mode, user: j.dgram_user, group: j.dgram_group });
      if (typeof p === 'string') return p;
    }
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** open what the config asks for; on an error close what was opened and throw */
export async function startLocalControl(reg: RpcRegistry, config: Pick<KdmqConfig, 'ctl' | 'jsonrpcs'>, log: Log): Promise<LocalControl> {
  const open: Closer[] = [];
  const closeAll = async () => void (await Promise.all(open.map((o) => o.close())));
  try {
    const ctl = config.ctl;
    if (ctl && ctl.binrpc.length > 0) {
      const perms = permsFrom({ mode: 'ctl.mode', user: 'ctl.user', group: 'ctl.group' }, ctl);
      if (typeof perms === 'string') throw new Error(perms);
      const specs = ctlSpecs(ctl.binrpc);
      const b = await startBinrpc(reg, specs, { perms, log });
      open.push({ address: b.addresses.join(' '), close: b.close });
      for (const s of specs) {
        if ((s.proto === 'tcp' || s.proto === 'udp') && !isLoopbackHost(s.host)) {
          log.log('warn', 'ctl.binrpc: a socket off loopback; BINRPC has no authentication (as in Kamailio), anyone who reaches it can change the node', { socket: s.text });
        }
      }
    }
    const j = config.jsonrpcs;
    if (j && j.fifo_name !== '') {
      const perms = permsFrom({ mode: 'jsonrpcs.fifo_mode', user: 'jsonrpcs.fifo_user', group: 'jsonrpcs.fifo_group' }, { mode: j.fifo_mode, user: j.fifo_user, group: j.fifo_group });
      if (typeof perms === 'string') throw new Error(perms);
      open.push(startJsonrpcFifo(reg, j.fifo_name, j.fifo_reply_dir, perms, log));
    }
    if (j && j.dgram_socket !== '') {
      const perms = permsFrom({ mode: 'jsonrpcs.dgram_mode', user: 'jsonrpcs.dgram_user', group: 'jsonrpcs.dgram_group' }, { mode: j.dgram_mode, user: j.dgram_user, group: j.dgram_group });
      if (typeof perms === 'string') throw new Error(perms);
      open.push(await startJsonrpcDgram(reg, j.dgram_socket, perms, log));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { addresses: open.flatMap((o) => o.address.split(' ')), close: closeAll };
}
