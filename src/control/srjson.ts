// JSON as Kamailio's jsonrpcs writes it over its FIFO and datagram socket (srjson's formatted
// print, src/core/utils/srjson.c 5.6.3): objects one member a line, indented with tabs, "key":<TAB>
// value; arrays on one line, ", " between elements; integers in the C int range as %d, other
// whole numbers as %.0f, fractions as %f (or %e when tiny or huge). kamctl's filters read this
// layout. Pure.

function num(d: number): string {
  if (!Number.isFinite(d)) return '0';
  if (Number.isInteger(d) && d <= 2147483647 && d >= -2147483648) return String(d);
  if (Number.isInteger(d)) return BigInt(d).toString();
  const a = Math.abs(d);
  if (a < 1e-6 || a > 1e9) {
    const [m, e] = d.toExponential(6).split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return d.toFixed(6);
}

function str(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c > 31) out += ch;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

function value(v: unknown, depth: number): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, depth + 1)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  const inner = depth + 1;
  const tabs = '\t'.repeat(inner);
  const lines = entries.map(([k, x], i) => `${tabs}${str(k)}:\t${value(x, inner)}${i < entries.length - 1 ? ',' : ''}\n`);
  return `{\n${lines.join('')}${'\t'.repeat(depth)}}`;
}

/** a JSON value laid out as srjson's formatted print */
export function srjsonPrint(v: unknown): string {
  return value(v, 0);
}
