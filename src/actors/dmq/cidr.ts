// CIDR parsing and matching for dmq.allow (IPv4 and IPv6). Pure.

export interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

function v4(s: string): bigint | null {
  const p = s.split('.');
  if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return null;
  return p.reduce((a, x) => (a << 8n) | BigInt(Number(x)), 0n);
}

function v6(s: string): bigint | null {
  const t = s.replace(/^\[|\]$/g, '');
  if (!/^[0-9a-fA-F:.]+$/.test(t)) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const expand = (h: string): string[] => (h === '' ? [] : h.split(':'));
  let head = expand(halves[0]);
  let tail = halves.length === 2 ? expand(halves[1]) : [];
  const fix = (arr: string[]): string[] | null => {
    const last = arr[arr.length - 1];
    if (last && last.includes('.')) {
      const n = v4(last);
      if (n === null) return null;
      return [...arr.slice(0, -1), ((n >> 16n) & 0xffffn).toString(16), (n & 0xffffn).toString(16)];
    }
    return arr;
  };
  if (halves.length === 2) tail = fix(tail) ?? [];
  else head = fix(head) ?? [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array(missing).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function parseCidr(text: string): Cidr | null {
  const [addr, pfx] = text.split('/');
  const a4 = v4(addr);
  if (a4 !== null) {
    const prefix = pfx === undefined ? 32 : Number(pfx);
    return Number.isInteger(prefix) && prefix >= 0 && prefix <= 32 ? { family: 4, bits: a4, prefix } : null;
  }
  const a6 = v6(addr);
  if (a6 !== null) {
    const prefix = pfx === undefined ? 128 : Number(pfx);
    return Number.isInteger(prefix) && prefix >= 0 && prefix <= 128 ? { family: 6, bits: a6, prefix } : null;
  }
  return null;
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = c.family === 4 ? v4(ip) : v6(ip);
  if (n === null) return false;
  const width = c.family === 4 ? 32 : 128;
  const shift = BigInt(width - c.prefix);
  return n >> shift === c.bits >> shift;
}

/** 4 or 6 when `text` is an IP literal (no brackets, no zone), else 0: node:net's isIP without Node */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(text)) return 4;
  if (text.includes(':') && !text.startsWith('[') && v6(text) !== null) return 6;
  return 0;
}
