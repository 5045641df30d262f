// One BINRPC request in, its reply out, as ctl's process_rpc_req (binrpc_run.c 5.6.3): the first
// record names the method, the rest are its parameters; the method runs in the same registry
// the HTTP JSON-RPC uses. Faults as ctl words them: 400 "bad request: <binrpc error>", 500
// "command X not found", a method's own RpcError code and message. A bad packet also closes a
// stream connection (as ctl does); a fault from the method does not. No I/O here.

import { RpcError, type RpcRegistry } from '../rpc.ts';
import { errorText } from '../../errors.ts';
import { decodeBody, encodePacket, faultPacket, readHeader, E, type BinrpcPacket } from './codec.ts';
import { METHOD_HINTS, paramValue, resultRecords } from './shape.ts';

/** ctl's receive buffer (STREAM_BUF_SIZE, DGRAM_BUF_SIZE): a larger packet is refused */
export const MAX_REQUEST = 65535;
/** ctl's MAX_FAULT_LEN: fault texts are cut to 255 bytes */
const MAX_FAULT = 255;

export type Step =
  | { kind: 'need'; bytes: number } // a stream needs this many more bytes for the packet
  | { kind: 'reply'; reply: Uint8Array; consumed: number; close: boolean; method?: string };

function fault(cookie: number, code: number, message: string, consumed: number, close: boolean, method?: string): Step {
  const text = Buffer.from(message).length > MAX_FAULT ? Buffer.from(message).subarray(0, MAX_FAULT).toString('utf8') : message;
  return { kind: 'reply', reply: encodePacket(faultPacket(cookie, code, text)), consumed, close, method };
}

/**
 * Answer the packet at the start of `buf` (a stream's unread bytes, or one datagram). `consumed`
 * is how many bytes it used (all of them after a bad header: the stream cannot be resynchronised).
 */
export async function answerBinrpc(reg: RpcRegistry, buf: Uint8Array): Promise<Step> {
  const h = readHeader(buf);
  if (!h.ok) {
    if ('need' in h) return { kind: 'need', bytes: h.need };
    return fault(0, 400, errorText('KDMQ_RPC_BINRPC_BAD_REQUEST', h.error), buf.length, true);
  }
  const size = h.headerLen + h.bodyLen;
  if (size > MAX_REQUEST) return fault(h.cookie, 400, errorText('KDMQ_RPC_BINRPC_BAD_REQUEST', 'buffer too small (overflow)'), buf.length, true);
  if (buf.length < size) return { kind: 'need', bytes: size - buf.length };
  if (h.type !== 'request') return fault(h.cookie, 400, errorText('KDMQ_RPC_BINRPC_BAD_REQUEST', E.badPacket), size, true);
  const body = decodeBody(buf.subarray(h.headerLen, size));
  if (!body.ok) return fault(h.cookie, 400, errorText('KDMQ_RPC_BINRPC_BAD_REQUEST', body.error), size, true);
  const [first, ...rest] = body.values;
  if (first?.t !== 'str') return fault(h.cookie, 400, errorText('KDMQ_RPC_BINRPC_BAD_METHOD', first ? E.type : E.endOfPacket), size, true);
  const method = first.v;
  const m = reg.methods.get(method);
  if (!m) return fault(h.cookie, 500, errorText('KDMQ_RPC_BINRPC_NO_COMMAND', method), size, false, method);
  let result: unknown;
  try {
    result = await m.fn(rest.map(paramValue));
  } catch (e) {
    if (e instanceof RpcError) return fault(h.cookie, e.code, e.message, size, false, method);
    return fault(h.cookie, 500, errorText('KDMQ_RPC_INTERNAL', (e as Error).message), size, false, method);
  }
  // the same value the HTTP answer carries (toJSON, undefined members dropped)
  const json: unknown = result === undefined ? undefined : JSON.parse(JSON.stringify(result) ?? 'null');
  const reply: BinrpcPacket = { type: 'reply', cookie: h.cookie, body: resultRecords(json, METHOD_HINTS[method]) };
  return { kind: 'reply', reply: encodePacket(reply), consumed: size, close: false, method };
}
