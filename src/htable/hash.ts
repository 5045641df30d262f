// Kamailio's htable slot index and time formatting, so htable.dump's "entry" numbers and
// htable.get's "expire" text equal a 5.6.3 node's: core_case_hash (src/core/hashes.h: signed
// chars, A–Z folded, hash_finish), slot = hash & (2^size − 1). Checked against a live 5.6.3
// (counter→25, color→160 with size 8; non-ASCII names too). Pure.

const utf8 = new TextEncoder();

/** signed char value of a byte, with ASCII upper case folded as ch_icase does */
function icase(b: number): number {
  const c = b >= 128 ? b - 256 : b;
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}

/** core_case_hash(name, NULL, 0): the full 32-bit cell id */
export function coreCaseHash(name: string): number {
  const b = utf8.encode(name);
  let h = 0;
  let v: number;
  let p = 0;
  for (; p <= b.length - 4; p += 4) {
    v = (icase(b[p]) * 16777216 + icase(b[p + 1]) * 65536 + icase(b[p + 2]) * 256 + icase(b[p + 3])) >>> 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  }
  v = 0;
  for (; p < b.length; p++) v = (v * 256 + icase(b[p])) >>> 0;
  h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  return (((h + (h >>> 11)) >>> 0) + ((h >>> 13) + (h >>> 23))) >>> 0;
}

/** "%Y-%m-%d %H:%M:%S" of Unix seconds, in UTC (Kamailio uses localtime; the lab ran in UTC) */
export function formatExpire(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
