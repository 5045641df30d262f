// sipp driver for interop tests and benchmarks: startSipp() registers N distinct users (one
// REGISTER per CSV line, scenario modelled on the lab's sipp/register.xml) against ip:port from
// a loopback address, and reports sipp's final counters. Every sipp socket (SIP, media, control)
// is bound to the given loopback IP.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLoopback } from './kamailio-config.ts';
import { freeUdpPort } from './loopback.ts';
import { killTree, pidAlive, run, withResolvConf } from './proc.ts';

export interface SippRegisterOptions {
  /** Registrar, "ip:port" (loopback). */
  target: string;
  /** Local loopback IP sipp binds all its sockets to (use a fresh one per sipp). */
  localIp: string;
  /** Local SIP port (default: a free UDP port on localIp). */
  localPort?: number;
  /** Number of users (named `${userPrefix}${startIndex + i}`) or the explicit user names. */
  users: number | string[];
  userPrefix?: string;
  startIndex?: number;
  /** Expires header of each REGISTER (default 300; 0 unregisters). */
  expires?: number;
  /** CSeq of each REGISTER (default 1). */
  cseq?: number;
  /** Domain of From/To (default kdmq.test). */
  domain?: string;
  /** Calls (REGISTERs) per second (default 100). */
  rate?: number;
  /** Max simultaneous calls (-l). */
  limit?: number;
  /** How long each REGISTER waits for its 200 (default 4000 ms). */
  responseTimeoutMs?: number;
  /** Overall deadline (default count / rate + 30 s). */
  timeoutMs?: number;
  /** sipp Call-ID format (-cid_str), default sipp's "%u-%p@%s". */
  cidStr?: string;
  resolvConf?: string;
  /** Keep the work dir (scenario, CSV, stats, logs) after the run. */
  keepWorkDir?: boolean;
  /**
   * Digest password of every user: each REGISTER expects a 401 challenge and is sent again with
   * sipp's [authentication] (CSeq 2), then expects the 200 (authRegisterScenario).
   */
  password?: string;
}

export interface SippResult {
  /** sipp exit code: 0 all calls succeeded, 1 some failed, 97/99/255 other outcomes; -1 killed. */
  code: number;
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  elapsedMs: number;
  timedOut: boolean;
  users: string[];
  localPort: number;
  /** Start of sipp's error log and screen output (for failure messages). */
  errors: string;
  screen: string;
  workDir: string;
}

let sippCache: { ok: boolean; reason: string } | undefined;
export async function sippAvailable(): Promise<{ ok: boolean; reason: string }> {
  if (sippCache) return sippCache;
  const r = await run('sipp', ['-v'], 5000);
  const m = /SIPp v?(\S+)/.exec(r.stdout + r.stderr);
  return (sippCache = m ? { ok: true, reason: `sipp ${m[1]}` } : { ok: false, reason: `sipp -v failed (code ${r.code})` });
}

/** one REGISTER <send> of the scenarios (CSeq as given; `auth`: an extra header line or '') */
function registerSend(cseq: string, auth: string): string {
  return `
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:[field0]@[field4]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[field0]@[field4]>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: [field2]
      Expires: [field3]
${auth}      User-Agent: kdmq-sipp
      Content-Length: 0

    ]]>
  </send>`;
}

export function registerScenario(responseTimeoutMs: number): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- One REGISTER per CSV line (user;cseq;contact;expires;domain), 200 expected.
     Call-ID is sipp's [call_id]: sipp matches replies to calls by Call-ID. -->
<scenario name="kdmq REGISTER">${registerSend('[field1]', '')}
  <recv response="200" timeout="${responseTimeoutMs}" />
</scenario>
`;
}

/**
 * The REGISTER with digest auth: the first REGISTER must be answered 401 (auth="true" keeps its
 * challenge), the second carries sipp's [authentication] header (MD5, qop=auth when offered; the username quoted, as sipp reads a field inside the keyword) on the same
 * Call-ID with CSeq 2, and must be answered 200. One call = the whole 401 round trip.
 */
export function authRegisterScenario(responseTimeoutMs: number, password: string): string {
  if (!/^[\w.-]+$/.test(password)) throw new Error('authRegisterScenario: password must be [A-Za-z0-9_.-]');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- One REGISTER per CSV line (user;cseq;contact;expires;domain), challenged (401), sent again
     with digest credentials, 200 expected. -->
<scenario name="kdmq REGISTER with digest auth">${registerSend('1', '')}
  <recv response="401" auth="true" timeout="${responseTimeoutMs}" />${registerSend('2', `      [authentication username="[field0]" password=${password}]\n`)}
  <recv response="200" timeout="${responseTimeoutMs}" />
</scenario>
`;
}

/** Last row of sipp's -trace_stat CSV (';' separated; dates contain tabs) as name → number. */
export function parseSippStat(text: string): Record<string, number> {
  const rows = text.split('\n').filter((l) => l.includes(';'));
  if (rows.length < 2) return {};
  const head = rows[0].split(';');
  const last = rows[rows.length - 1].split(';');
  const out: Record<string, number> = {};
  head.forEach((h, i) => {
    const v = Number(last[i]);
    if (h && Number.isFinite(v)) out[h] = v;
  });
  return out;
}

/** Register the users with sipp and wait for it to finish; never leaves sipp running. */
export async function startSipp(o: SippRegisterOptions): Promise<SippResult> {
  checkLoopback(o.localIp);
  const [tip, tport] = o.target.split(':');
  checkLoopback(tip);
  const localPort = o.localPort ?? (await freeUdpPort(o.localIp));
  const users = Array.isArray(o.users)
    ? o.users
    : Array.from({ length: o.users }, (_, i) => `${o.userPrefix ?? 'user'}${(o.startIndex ?? 1) + i}`);
  if (users.length === 0) throw new Error('startSipp: no users');
  const rate = o.rate ?? 100;
  const domain = o.domain ?? 'kdmq.test';
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-sipp-'));
  const scen = join(dir, 'register.xml');
  const csv = join(dir, 'users.csv');
  const stat = join(dir, 'stat.csv');
  const errFile = join(dir, 'errors.log');
  const screenFile = join(dir, 'screen.txt');
  writeFileSync(scen, o.password !== undefined ? authRegisterScenario(o.responseTimeoutMs ?? 4000, o.password) : registerScenario(o.responseTimeoutMs ?? 4000));
  const lines = users.map(
    (u) => `${u};${o.cseq ?? 1};<sip:${u}@${o.localIp}:${localPort}>;${o.expires ?? 300};${domain}`,
  );
  writeFileSync(csv, `SEQUENTIAL\n${lines.join('\n')}\n`);
  const timeoutMs = o.timeoutMs ?? Math.ceil((users.length / rate) * 1000) + 30_000;
  const args = [
    `${tip}:${tport ?? '5060'}`, '-sf', scen, '-inf', csv,
    '-i', o.localIp, '-p', String(localPort), '-bind_local', '-t', 'u1',
    '-mi', o.localIp, '-ci', o.localIp, // media + control sockets default to other addresses
    '-r', String(rate), '-m', String(users.length), '-nostdin',
    '-trace_stat', '-stf', stat, '-fd', '1', '-trace_err', '-error_file', errFile,
    // sipp's own global timeout first, so that it still writes its final statistics
    '-timeout', String(Math.max(1, Math.floor(timeoutMs / 1000))), '-timeout_error',
  ];
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  if (o.cidStr) args.push('-cid_str', o.cidStr);
  const [cmd, argv] = withResolvConf(o.resolvConf, 'sipp', args);
  const { code, timedOut, elapsedMs } = await runSippChild(cmd, argv, dir, screenFile, timeoutMs);
  const s = existsSync(stat) ? parseSippStat(readFileSync(stat, 'utf8')) : {};
  const readHead = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').slice(0, 4000) : '');
  const result: SippResult = {
    code,
    created: s.TotalCallCreated ?? 0,
    successful: s['SuccessfulCall(C)'] ?? 0,
    failed: s['FailedCall(C)'] ?? 0,
    retransmissions: s['Retransmissions(C)'] ?? 0,
    elapsedMs,
    timedOut: timedOut || elapsedMs >= timeoutMs,
    users,
    localPort,
    errors: readHead(errFile),
    screen: readHead(screenFile).split('\n').slice(-15).join('\n'),
    workDir: dir,
  };
  if (!o.keepWorkDir) rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * Run one sipp process (its own process group, screen to `screenFile`), killed with its group
 * 10 s after `timeoutMs` or when this process exits; resolves when it ended.
 */
export async function runSippChild(
  cmd: string, argv: string[], dir: string, screenFile: string, timeoutMs: number, onStart?: (pid: number) => void,
): Promise<{ code: number; timedOut: boolean; elapsedMs: number }> {
  const fd = openSync(screenFile, 'w');
  const t0 = Date.now();
  const child = spawn(cmd, argv, { cwd: dir, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const pid = child.pid ?? 0;
  if (pid) onStart?.(pid);
  const killOnExit = () => pid && pidAlive(pid) && killTree(pid, true);
  process.on('exit', killOnExit);
  let timedOut = false;
  const code = await new Promise<number>((resolve) => {
    const hard = setTimeout(() => {
      timedOut = true;
      if (pid) killTree(pid, true);
    }, timeoutMs + 10_000);
    child.once('error', () => {
      clearTimeout(hard);
      resolve(-1);
    });
    child.once('exit', (c) => {
      clearTimeout(hard);
      resolve(c ?? -1);
    });
  });
  process.off('exit', killOnExit);
  return { code, timedOut, elapsedMs: Date.now() - t0 };
}
