// sipp REGISTER load that reports, from the client side, exactly which users were answered: each
// call logs `200;<user>` or `503;<user>;<Retry-After seconds>` through a sipp <log> action
// (-trace_logs), and its answer time through an rtd timer (-trace_rtt), so a test can compare the
// set of acknowledged AoRs with what every node holds (not just counts). Sockets on one loopback IP.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLoopback } from './kamailio-config.ts';
import { freeUdpPort } from './loopback.ts';
import { parseSippStat, runSippChild } from './sipp.ts';

export interface AckedRegisterOptions {
  /** registrar "ip:port" (loopback) */
  target: string;
  /** loopback IP all sipp sockets bind to (a fresh one per sipp) */
  localIp: string;
  /** one REGISTER per user, each its own AoR */
  users: string[];
  /** REGISTERs per second */
  rate: number;
  /** how long a REGISTER waits for its answer (default 10 000 ms) */
  responseTimeoutMs?: number;
  expires?: number;
  domain?: string;
  /** overall deadline (default users / rate + response time-out + 30 s) */
  timeoutMs?: number;
  /** at most this many calls open at once (-l; default: all): a closed loop that measures capacity */
  limit?: number;
  /** called with sipp's PID once it runs */
  onStart?(pid: number): void;
  keepWorkDir?: boolean;
}

export interface AckedRegisterResult {
  /** sipp exit code (0 every call reached the end of the scenario, 1 some failed), -1 killed */
  code: number;
  elapsedMs: number;
  timedOut: boolean;
  /** users answered 200, in log order */
  acked: string[];
  /** users answered 503 */
  refused: string[];
  /** users answered 503 without a Retry-After header */
  refusedWithoutRetryAfter: string[];
  /** answer times (first send → 200 or 503), ms */
  answerMs: { count: number; max: number; p50: number; p99: number };
  /** when the first and the last answer arrived, ms after sipp started (-trace_rtt dates) */
  answersSpanMs: { first: number; last: number };
  /** sipp's final counters (-trace_stat), e.g. TotalCallCreated, FailedCall(C), FailedCallTimeout(C…) */
  stats: Record<string, number>;
  /** start of sipp's error log and the last lines of its screen (for failure messages) */
  errors: string;
  screen: string;
  workDir: string;
}

export function ackedRegisterScenario(responseTimeoutMs: number): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- One REGISTER per CSV line (user;contact;expires;domain); the answer (200, or 503 with its
     Retry-After) is logged with the user; rtd 1 times first send -> answer. -->
<scenario name="kdmq REGISTER acked">
  <send retrans="500" start_rtd="1">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:[field0]@[field3]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[field0]@[field3]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: [field1]
      Expires: [field2]
      User-Agent: kdmq-sipp-acked
      Content-Length: 0

    ]]>
  </send>
  <recv response="503" optional="true" next="refused" rtd="1">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" check_it="false" assign_to="ra"/>
      <log message="503;[field0];[$ra]"/>
    </action>
  </recv>
  <recv response="200" timeout="${responseTimeoutMs}" rtd="1">
    <action><log message="200;[field0]"/></action>
  </recv>
  <label id="refused"/>
</scenario>
`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `200;user` / `503;user;N` lines (N: the Retry-After seconds, empty without one) of the log action file */
export function parseAckLog(text: string): Pick<AckedRegisterResult, 'acked' | 'refused' | 'refusedWithoutRetryAfter'> {
  const acked: string[] = [];
  const refused: string[] = [];
  const refusedWithoutRetryAfter: string[] = [];
  for (const line of text.split('\n')) {
    const [code, user, ra] = line.trim().split(';');
    if (!user) continue;
    if (code === '200') acked.push(user);
    else if (code === '503') {
      refused.push(user);
      if (!/^\d+$/.test(ra ?? '')) refusedWithoutRetryAfter.push(user);
    }
  }
  return { acked, refused, refusedWithoutRetryAfter };
}

/** sipp's -trace_rtt file(s): `date_ms;response_time_ms;rtd_no` (date: ms after sipp started) */
export function parseRtt(text: string): Array<{ at: number; ms: number }> {
  const out: Array<{ at: number; ms: number }> = [];
  for (const line of text.split('\n')) {
    const f = line.split(';');
    const at = Number(f[0]);
    const ms = Number(f[1]);
    if (f.length >= 3 && Number.isFinite(at) && Number.isFinite(ms) && /^\d/.test(f[0])) out.push({ at, ms });
  }
  return out;
}

/** run the load and wait for sipp to finish; never leaves sipp running */
export async function registerAcked(o: AckedRegisterOptions): Promise<AckedRegisterResult> {
  checkLoopback(o.localIp);
  const [tip, tport] = o.target.split(':');
  checkLoopback(tip);
  if (o.users.length === 0) throw new Error('registerAcked: no users');
  const localPort = await freeUdpPort(o.localIp);
  const responseTimeoutMs = o.responseTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-sipp-acked-'));
  const scen = join(dir, 'reg.xml');
  const csv = join(dir, 'users.csv');
  const stat = join(dir, 'stat.csv');
  const logFile = join(dir, 'acks.log');
  const errFile = join(dir, 'errors.log');
  const screenFile = join(dir, 'screen.txt');
  writeFileSync(scen, ackedRegisterScenario(responseTimeoutMs));
  const domain = o.domain ?? 'kdmq.test';
  writeFileSync(csv, `SEQUENTIAL\n${o.users.map((u) => `${u};<sip:${u}@${o.localIp}:${localPort}>;${o.expires ?? 3600};${domain}`).join('\n')}\n`);
  const timeoutMs = o.timeoutMs ?? Math.ceil((o.users.length / o.rate) * 1000) + responseTimeoutMs + 30_000;
  const args = [
    `${tip}:${tport ?? '5060'}`, '-sf', scen, '-inf', csv,
    '-i', o.localIp, '-p', String(localPort), '-bind_local', '-t', 'u1',
    '-mi', o.localIp, '-ci', o.localIp,
    '-r', String(o.rate), '-m', String(o.users.length), '-l', String(o.limit ?? o.users.length), '-nostdin',
    '-buff_size', String(4 << 20),
    '-trace_logs', '-log_file', logFile, '-trace_rtt', '-rtt_freq', '1',
    '-trace_stat', '-stf', stat, '-fd', '1', '-trace_err', '-error_file', errFile,
    '-timeout', String(Math.max(1, Math.floor(timeoutMs / 1000))), '-timeout_error',
  ];
  const { code, timedOut, elapsedMs } = await runSippChild('sipp', args, dir, screenFile, timeoutMs, o.onStart);
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const rtt = readdirSync(dir).filter((f) => f.endsWith('_rtt.csv')).flatMap((f) => parseRtt(read(join(dir, f))));
  const times = rtt.map((r) => r.ms).sort((a, b) => a - b);
  const ats = rtt.map((r) => r.at);
  const result: AckedRegisterResult = {
    code,
    elapsedMs,
    timedOut: timedOut || elapsedMs >= timeoutMs,
    ...parseAckLog(read(logFile)),
    answerMs: { count: times.length, max: times.length ? times[times.length - 1] : 0, p50: percentile(times, 50), p99: percentile(times, 99) },
    answersSpanMs: { first: ats.reduce((a, b) => Math.min(a, b), ats[0] ?? 0), last: ats.reduce((a, b) => Math.max(a, b), 0) },
    stats: parseSippStat(read(stat)),
    errors: read(errFile).slice(0, 4000),
    screen: read(screenFile).split('\n').slice(-20).join('\n'),
    workDir: dir,
  };
  if (!o.keepWorkDir) rmSync(dir, { recursive: true, force: true });
  return result;
}
