// The `kamailio_` series of GET /metrics: Kamailio's statistics under the names its xhttp_prom
// module gives them (`kamailio_<group>_<name>`, '-' turned into '_'), for the groups kdmq keeps
// (dmq, htable, registrar, usrloc). The values are exactly the lines `stats.get_statistics all`
// prints (allStats in src/control/stats-methods.ts): one snapshot of those lines per scrape backs
// every kamailio_ gauge, so the RPC and the metrics cannot disagree.
//
// Type gauge, as Kamailio declares its internal statistics (5.6.3's xhttp_prom prints them with no
// TYPE line at all, i.e. untyped; later versions declare them gauge, because the names carry no
// _total). Kamailio prints no HELP line; kdmq adds one (promtool check metrics warns without it)
// and no sample timestamp (Prometheus stamps a scrape itself).

import client from 'prom-client';

export const KAMAILIO_PREFIX = 'kamailio_';

export interface StatLine {
  group: string;
  name: string;
  value: number;
}

/** "group:name = value" lines (stats.get_statistics) → statistics; other lines are skipped */
export function parseStatLines(lines: readonly string[]): StatLine[] {
  const out: StatLine[] = [];
  for (const l of lines) {
    const m = /^([A-Za-z0-9_-]+):([A-Za-z0-9_-]+) = (-?\d+(?:\.\d+)?)$/.exec(l);
    if (m) out.push({ group: m[1], name: m[2], value: Number(m[3]) });
  }
  return out;
}

/** xhttp_prom's name: prefix + group + '_' + name, every '-' made '_' */
export function kamailioName(group: string, name: string): string {
  return `${KAMAILIO_PREFIX}${group}_${name}`.replace(/-/g, '_');
}

/**
 * Registers one gauge per statistic `read()` returns now (the set of lines is fixed once the node
 * and its applications exist). `read()` is called at most once per scrape: call `newScrape()`
 * before each registry.metrics().
 */
export function kamailioGauges(registry: client.Registry, read: () => string[]): { newScrape(): void; names: string[] } {
  let snapshot: Map<string, number> | null = null;
  const current = (): Map<string, number> => {
    snapshot ??= new Map(parseStatLines(read()).map((s) => [kamailioName(s.group, s.name), s.value]));
    return snapshot;
  };
  const names: string[] = [];
  for (const s of parseStatLines(read())) {
    const name = kamailioName(s.group, s.name);
    if (names.includes(name) || registry.getSingleMetric(name)) continue;
    names.push(name);
    new client.Gauge({
      name,
      help: `Kamailio statistic ${s.group}:${s.name} (the value stats.get_statistics prints)`,
      registers: [registry],
      collect() {
        const v = current().get(name);
        if (v === undefined) this.reset();
        else this.set(v);
      },
    });
  }
  return { newScrape: () => (snapshot = null), names };
}
