// sipsak as a real registering client (digest auth with -a): one REGISTER (-U, Expires 600) of a
// contact, the SIP statuses it received in order and its exit code (0: registered, 1: an error
// answer, 2: gave up on 401s). Callers skip with the reason when SIPSAK is undefined.
import { existsSync } from 'node:fs';
import { run } from './proc.ts';

export const SIPSAK = ['/usr/bin/sipsak', '/usr/local/bin/sipsak'].find((p) => existsSync(p));
export const sipsakMissing = SIPSAK === undefined ? 'sipsak not installed (apt-get install -y sipsak)' : null;

export interface SipsakRun { code: number; statuses: number[]; out: string }

/** `sipsak -vvv -U -i -x 600 -C CONTACT -s TARGET …opts` (opts e.g. '-a', PASSWORD) */
export async function sipsakRegister(target: string, contact: string, ...opts: string[]): Promise<SipsakRun> {
  if (SIPSAK === undefined) throw new Error(sipsakMissing!);
  const r = await run(SIPSAK, ['-vvv', '-U', '-i', '-x', '600', '-C', contact, '-s', target, ...opts], 30_000);
  const out = r.stdout + r.stderr;
  return { code: r.code, statuses: [...out.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])), out };
}
