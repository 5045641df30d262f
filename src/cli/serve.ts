// `kdmq serve [--config FILE] [--kamailio-cfg FILE [--define NAME[=VAL]]…] [--set k=v]…
// [--log-level L]`: builds the live ports (UDP sockets,
// system clock, DNS over the network, a crypto-seeded random), creates the node with the one
// factory, serves JSON-RPC on rpc.listen (and BINRPC, FIFO, datagram per ctl: and jsonrpcs:),
// and stops cleanly on SIGINT/SIGTERM (leave notice, sockets closed, exit 0). Config errors and bind errors exit 2 with one line on stderr.
// The start-up stages after the config (ports, node, listeners) are in serve-start.ts.

import { readFileSync } from 'node:fs';
import { applyOverrides, parseConfigText, validateConfig } from '../config/load.ts';
import { parseDefineArg, readKamailioCfg } from '../config/kamailio-cfg.ts';
import type { KdmqConfig } from '../config/types.ts';
import type { Log } from '../ports/log.ts';
import type { KdmqNode } from '../actors/node/create-node.ts';
import { localControlConfigError } from '../control/local-control.ts';
import { createLogger, isLogLevel } from './logger.ts';
import { siptraceConfigError } from '../trace/hep-mirror.ts';
import { openPorts, refuse, startControl, startNode, type Control, type Opened, type Started } from './serve-start.ts';

export interface ServeArgs {
  configPath?: string;
  kamailioCfg?: string;
  defines: Record<string, string>;
  sets: string[];
  logLevel: string;
  trace?: string;
  traceMaxMb?: number;
}

export function parseServeArgs(argv: string[]): ServeArgs | string {
  const a: ServeArgs = { configPath: process.env.KDMQ_CONFIG || undefined, defines: {}, sets: [], logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const val = () => (x.includes('=') && x.startsWith('--') ? x.slice(x.indexOf('=') + 1) : argv[++i]);
    if (x === '--config' || x.startsWith('--config=')) a.configPath = val();
    else if (x === '--kamailio-cfg' || x.startsWith('--kamailio-cfg=')) a.kamailioCfg = val();
    else if (x === '--define' || x.startsWith('--define=') || x === '-A') {
      const d = parseDefineArg((x === '-A' ? argv[++i] : val()) ?? '');
      if (!d) return `${x} expects NAME or NAME=VALUE`;
      a.defines[d[0]] = d[1];
    } else if (x === '--set') a.sets.push(argv[++i] ?? '');
    else if (x.startsWith('--set=')) a.sets.push(x.slice(6));
    else if (x === '--log-level' || x.startsWith('--log-level=')) a.logLevel = val() ?? '';
    else if (x === '--trace' || x.startsWith('--trace=')) a.trace = val();
    else if (x === '--trace-max-mb' || x.startsWith('--trace-max-mb=')) a.traceMaxMb = Number(val());
    else return `unknown option ${x}`;
    if (a.configPath === undefined && (x === '--config' || x.startsWith('--config='))) return `${x} expects a file name`;
    if (a.kamailioCfg === undefined && (x === '--kamailio-cfg' || x.startsWith('--kamailio-cfg='))) return `${x} expects a file name`;
  }
  if (a.traceMaxMb !== undefined && !(a.traceMaxMb >= 0)) return '--trace-max-mb must be a number of MB (0 = no rotation)';
  if (!isLogLevel(a.logLevel)) return `--log-level must be debug, info, warn or error`;
  if (Object.keys(a.defines).length > 0 && !a.kamailioCfg) return '--define only applies with --kamailio-cfg';
  return a;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * The configuration: the kamailio.cfg mapping (if any), then the kdmq file on top (deep-merged),
 * then the --set overrides, validated as one. `ignored` lists what the kamailio.cfg had that kdmq
 * does not use.
 */
export function readConfig(args: ServeArgs): { ok: true; config: KdmqConfig; ignored: string[] } | { ok: false; error: string } {
  let raw: Record<string, unknown> = {};
  let ignored: string[] = [];
  if (args.kamailioCfg) {
    const k = readKamailioCfg(args.kamailioCfg, args.defines);
    if (!k.ok) return k;
    raw = k.config;
    ignored = k.ignored;
  }
  if (args.configPath) {
    let text: string;
    try {
      text = readFileSync(args.configPath, 'utf8');
    } catch (e) {
      return { ok: false, error: `cannot read config file ${args.configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const p = parseConfigText(text);
    if (!p.ok) return p;
    if (p.value !== null && p.value !== undefined && !isObj(p.value)) {
      return { ok: false, error: `config key (top level): expected a mapping, got ${JSON.stringify(p.value)}` };
    }
    raw = deepMerge(raw, (p.value as Record<string, unknown> | null) ?? {});
  }
  // KDMQ_RPC_TOKEN: the rpc.token when the files give none (kept out of argv and ps)
  const envToken = process.env.KDMQ_RPC_TOKEN;
  if (envToken && !(isObj(raw.rpc) && raw.rpc.token !== undefined)) raw = deepMerge(raw, { rpc: { token: envToken } });
  const o = applyOverrides(raw, args.sets);
  if (!o.ok) return o;
  const v = validateConfig(o.value);
  return v.ok ? { ...v, ignored } : v;
}

export async function serve(argv: string[]): Promise<number> {
  const c = configure(argv);
  if (typeof c === 'number') return c;
  const opened = await openPorts(c.config, c.log);
  if (typeof opened === 'number') return opened;
  const started = await startNode(c.args, c.config, c.log, opened);
  if (typeof started === 'number') return started;
  const control = await startControl(c.config, c.log, opened, started);
  if (typeof control === 'number') return control;
  logReady(c.log, c.config, started.node, control);
  return untilSignal(c.log, opened, started, control);
}

/** the command line and the validated config, and the logger; the exit code (2) when either is refused */
function configure(argv: string[]): { args: ServeArgs; config: KdmqConfig; log: Log } | number {
  const args = parseServeArgs(argv);
  if (typeof args === 'string') return refuse(args);
  const cfg = readConfig(args);
  if (!cfg.ok) return refuse(cfg.error);
  const config = cfg.config;
  const controlError = localControlConfigError(config) ?? siptraceConfigError(config.siptrace);
  if (controlError) return refuse(controlError);
  const log = createLogger(args.logLevel as 'info');
  if (cfg.ignored.length > 0) {
    log.log('warn', 'kamailio cfg: ignoring what kdmq does not mirror', { file: args.kamailioCfg, ignored: cfg.ignored });
  }
  return { args, config, log };
}

function logReady(log: Log, config: KdmqConfig, node: KdmqNode, { rpc, local }: Control): void {
  if (!config.dmq.allow) log.log('warn', 'dmq.allow is not set: any host that reaches the DMQ port may join the cluster and write data (as in Kamailio)');
  log.log('info', 'kdmq ready', {
    listen: node.endpoints.map((e) => `${e.proto ?? 'udp'}:${e.host}:${e.port}`),
    server_address: `sip:${node.local.host}:${node.local.port}${node.local.transport ? `;transport=${node.local.transport}` : ''}`,
    rpc: rpc ? `http://${rpc.address.host}:${rpc.address.port}/RPC` : 'off',
    status_page: rpc ? `http://${rpc.address.host}:${rpc.address.port}/` : 'off',
    control: local.addresses.length > 0 ? local.addresses : 'off',
  });
}

/** runs until SIGINT or SIGTERM, then stops everything in order and resolves 0 */
function untilSignal(log: Log, o: Opened, { node, traced }: Started, { services, rpc, local }: Control): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', 'stopping', { signal: sig });
      // exit 0 within 2 s even if a socket or timer lingers (unref'd: never delays a clean exit)
      setTimeout(() => process.exit(0), 1900).unref();
      const force = setTimeout(() => resolve(0), 1500);
      void (async () => {
        await node.stop();
        await services.stop();
        await rpc?.close();
        await local?.close();
        await o.transport.close();
        await o.hep?.close();
        o.auth?.close();
        traced?.close(o.clock.now());
        clearTimeout(force);
        log.log('info', 'stopped');
        resolve(0);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
