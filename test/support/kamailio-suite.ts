// Which Kamailio a harness node runs (issue #19): the Debian suite's build made runnable by
// scripts/kamailio-version.sh SUITE (bookworm = the host's 5.6.3, trixie = 6.0 and sid = 6.1 in
// debootstrap chroots). The script prints, on its last line, a folder with `kamailio` and `kamcmd`
// wrappers; a chroot build's modules live under that folder's ../root (the mpath the harness writes
// is the path inside the chroot). Resolved once per suite per process.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type KamailioSuite = 'bookworm' | 'trixie' | 'sid';
export const KAMAILIO_SUITES: readonly KamailioSuite[] = ['bookworm', 'trixie', 'sid'];
/** the version line each suite must show (`kamailio -v`) */
export const SUITE_VERSION_PREFIX: Record<KamailioSuite, string> = { bookworm: '5.6.', trixie: '6.0.', sid: '6.1.' };

export interface KamailioInstall {
  ok: boolean;
  reason: string;
  /** the full version, e.g. 6.1.5 */
  version?: string;
  /** the module dir as the binary sees it (inside its chroot) */
  moduleDir?: string;
  /** the kamailio and kamcmd to run (absolute paths, or the names on PATH) */
  kamailio: string;
  kamcmd: string;
}

const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules',
  '/usr/local/lib64/kamailio/modules', '/usr/local/lib/kamailio/modules', '/usr/lib64/kamailio/modules'];
const REQUIRED_MODULES = ['dmq', 'dmq_usrloc', 'htable', 'jsonrpcs', 'xhttp', 'ctl', 'usrloc', 'registrar', 'tm', 'sl'];
const SCRIPT = new URL('../../scripts/kamailio-version.sh', import.meta.url).pathname;

const cache = new Map<string, KamailioInstall>();

/** the wrapper folder of a suite (builds the chroot on first use: minutes), or why not */
function suiteBin(suite: KamailioSuite): { dir: string } | { error: string } {
  try {
    const out = execFileSync('bash', [SCRIPT, suite], { encoding: 'utf8', timeout: 900_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const dir = out.trim().split('\n').pop() ?? '';
    if (!existsSync(join(dir, 'kamailio'))) return { error: `scripts/kamailio-version.sh ${suite} printed no wrapper folder (${dir})` };
    return { dir };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { error: `scripts/kamailio-version.sh ${suite} failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}` };
  }
}

/**
 * Is a usable Kamailio of this suite (no suite: the `kamailio` on PATH, which must be 5.6.x) with
 * kamcmd and the DMQ/htable/RPC modules there? Cached per suite.
 */
export function kamailioInstall(suite?: KamailioSuite): KamailioInstall {
  const key = suite ?? '';
  const hit = cache.get(key);
  if (hit) return hit;
  const r = findInstall(suite);
  cache.set(key, r);
  return r;
}

function findInstall(suite: KamailioSuite | undefined): KamailioInstall {
  let kamailio = 'kamailio';
  let kamcmd = 'kamcmd';
  let root = '';
  if (suite !== undefined) {
    const b = suiteBin(suite);
    if ('error' in b) return { ok: false, reason: b.error, kamailio, kamcmd };
    kamailio = join(b.dir, 'kamailio');
    kamcmd = join(b.dir, 'kamcmd');
    if (suite !== 'bookworm') root = join(dirname(b.dir), 'root');
  }
  const no = (reason: string): KamailioInstall => ({ ok: false, reason, kamailio, kamcmd });
  let text = '';
  try {
    text = execFileSync(kamailio, ['-v'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return no(`kamailio -v failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const m = /version: kamailio (\d+\.\d+\.\d+)/.exec(text);
  if (!m) return no(`cannot read the version from kamailio -v: ${text.split('\n')[0]}`);
  const want = SUITE_VERSION_PREFIX[suite ?? 'bookworm'];
  if (!m[1].startsWith(want)) return no(`kamailio ${m[1]} found, ${want}x required`);
  if (suite === undefined) {
    try {
      execFileSync('kamcmd', ['-h'], { timeout: 5000, stdio: 'ignore' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return no('kamcmd not found');
    }
  }
  const dir = MODULE_DIRS.find((d) => existsSync(join(root, d, 'dmq.so')));
  if (!dir) return no(`no Kamailio module dir with dmq.so in ${MODULE_DIRS.map((d) => root + d).join(', ')}`);
  const missing = REQUIRED_MODULES.filter((mod) => !existsSync(join(root, dir, `${mod}.so`)));
  if (missing.length) return no(`Kamailio modules missing in ${root}${dir}: ${missing.join(', ')}`);
  return { ok: true, reason: `kamailio ${m[1]}, modules in ${root}${dir}`, version: m[1], moduleDir: dir, kamailio, kamcmd };
}
