// Field-by-field comparison of what kamcmd prints for two servers (kdmq and Kamailio 5.6.3): the
// text is parsed into kamcmd-parse.ts's tree, fields that legitimately differ are normalised by a
// rule per field name (the rule says why), sibling entries that are a set (AoRs, nodes) are
// sorted, and the trees are diffed: same field names in the same order at every level, same
// values. Every difference is one readable line with its path.
import { parseKamcmd, type KEntry } from './kamcmd-parse.ts';

/** value → normalised value (e.g. a placeholder naming why the field is not compared) */
export type Rule = (value: string) => string;

export interface CompareOptions {
  /** field name → rule, e.g. { Socket: () => '<socket: origin vs replicated>' } */
  rules?: Record<string, Rule>;
  /** a keyed parent whose children are a set: sort them by the value of this field inside */
  sortBy?: Record<string, string>;
  /** sort the top-level anonymous structs by this field */
  sortTopBy?: string;
}

function fieldOf(e: KEntry, name: string): string {
  return Array.isArray(e.value) ? String(e.value.find((c) => c.key === name)?.value ?? '') : '';
}

function normalise(list: KEntry[], o: CompareOptions, parentKey: string | null): KEntry[] {
  let out = list.map((e): KEntry => {
    if (Array.isArray(e.value)) return { key: e.key, value: normalise(e.value, o, e.key) };
    const rule = e.key !== null ? o.rules?.[e.key] : undefined;
    return rule ? { key: e.key, value: rule(e.value) } : e;
  });
  const by = parentKey === null ? o.sortTopBy : o.sortBy?.[parentKey];
  if (by) {
    out = [...out].sort((a, b) => {
      const [fa, fb] = [fieldOf(a, by), fieldOf(b, by)];
      return fa < fb ? -1 : fa > fb ? 1 : 0;
    });
  }
  return out;
}

function diffLists(a: KEntry[], b: KEntry[], path: string, out: string[]): void {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const at = `${path}/${x?.key ?? y?.key ?? '{}'}[${i}]`;
    if (!x || !y) {
      out.push(`${at}: only in ${x ? 'the first' : 'the second'} (${JSON.stringify(x ?? y)})`);
      continue;
    }
    if (x.key !== y.key) {
      out.push(`${at}: field "${x.key}" vs "${y.key}"`);
      continue;
    }
    if (Array.isArray(x.value) !== Array.isArray(y.value)) out.push(`${at}: struct vs value`);
    else if (Array.isArray(x.value)) diffLists(x.value, y.value as KEntry[], at, out);
    else if (x.value !== y.value) out.push(`${at}: ${JSON.stringify(x.value)} vs ${JSON.stringify(y.value)}`);
  }
}

/** differences between two kamcmd outputs, [] when they agree field by field */
export function compareKamcmd(first: string, second: string, o: CompareOptions = {}): string[] {
  const out: string[] = [];
  diffLists(normalise(parseKamcmd(first), o, null), normalise(parseKamcmd(second), o, null), '', out);
  return out;
}
