// TEST ONLY: the RPC `kdmq.test_block`, offered only when the config names `dmq.test_block`
// (src/cli/serve.ts), over the transport wrapper of src/transport/test-block.ts.

import { rpcError, register, type RpcRegistry } from './rpc.ts';
import type { TestBlockTransport } from '../transport/test-block.ts';

/** `kdmq.test_block "ip1,ip2"` sets the list (`""` clears it) and returns it; no params reads it */
export function registerTestBlockMethod(reg: RpcRegistry, t: TestBlockTransport): void {
  register(reg, 'kdmq.test_block', 'TEST ONLY: drop datagrams to/from these IPs', (p) => {
    if (p.length > 0) {
      if (!p.every((x) => typeof x === 'string')) throw rpcError('KDMQ_RPC_INVALID_PARAMS');
      t.setBlocked((p as string[]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== ''));
    }
    return { blocked: t.list(), dropped: t.dropped };
  });
}
