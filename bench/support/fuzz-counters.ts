// Every drop and shed counter of the fuzz campaign's nodes, read after the campaign: kdmq's from
// /metrics (summed over its labels), Kamailio's core drop/error counters (kamcmd), and the
// kernel's UDP receive drops of every node's sockets (/proc/net/udp, the same for both).

import type { FuzzCluster } from '../../test/support/fuzz-campaign.ts';
import { parseStats } from '../../test/support/kamcmd-parse.ts';
import type { KdmqProc } from '../../test/support/kdmq-process.ts';
import { udpDrops } from './udp-drops.ts';

/** kdmq counter → the /metrics lines it sums */
export const KDMQ_DROPS: Record<string, RegExp> = {
  'replication KDMQ dropped (usrloc/htable queues)': /^kdmq_peer_queue_dropped_total\{[^}]*channel="(usrloc|htable)"/,
  'notification KDMQ dropped': /^kdmq_peer_queue_dropped_total\{[^}]*channel="notification_peer"/,
  'replicated changes refused by a node (4xx)': /^kdmq_replication_changes_total\{what="rejected"\}/,
  'REGISTERs shed (limit refusals, 503)': /^kdmq_limit_refusals_total/,
  'node lists refused': /^kdmq_node_list_refused_total/,
  'bad node lines': /^kdmq_bad_node_lines_total/,
  'KDMQ from rejected senders': /^kdmq_rejected_senders_total/,
  'KDMQ timed out': /^kdmq_requests_timed_out_total/,
  'SIP parse errors': /^kdmq_sip_parse_errors_total/,
  'bad SIP requests (400)': /^kdmq_sip_bad_requests_total/,
  'unanswerable datagrams': /^kdmq_sip_unanswerable_total/,
  'bad DMQ bodies': /^kdmq_dmq_bad_bodies_total/,
  'unknown channel': /^kdmq_unknown_channel_total/,
  'signature rejections': /^kdmq_signature_rejections_total/,
  'stale usrloc changes': /^kdmq_usrloc_stale_total/,
};

export const KAM_DROPS = ['core:drop_requests', 'core:drop_replies', 'core:err_requests', 'core:err_replies'];

async function kdmqDrops(k: KdmqProc): Promise<Record<string, number>> {
  const text = await fetch(k.rpcUrl.replace(/\/RPC$/, '/metrics'), { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
  const lines = text.split('\n');
  const out: Record<string, number> = {};
  for (const [name, re] of Object.entries(KDMQ_DROPS)) out[name] = lines.filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  out['kernel UDP drops'] = udpDrops(k.ip, k.sipPort) + udpDrops(k.ip, k.dmqPort);
  return out;
}

/** per node ("kdmq IP" / "kamailio IP") → counter → value */
export async function fuzzDrops(c: FuzzCluster): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const k of c.kdmq) out[`kdmq ${k.ip}`] = await kdmqDrops(k).catch(() => ({}));
  const kam: Record<string, number> = {};
  const r = await c.kam.kamcmd('stats.get_statistics', 'core:');
  const s = r.code === 0 && !r.timedOut ? parseStats(r.stdout) : {};
  for (const name of KAM_DROPS) kam[name] = s[name] ?? -1;
  kam['kernel UDP drops'] = udpDrops(c.kam.ip, c.kam.sipPort) + udpDrops(c.kam.ip, c.kam.dmqPort);
  out[`kamailio ${c.kam.ip}`] = kam;
  return out;
}
