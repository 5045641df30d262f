// Prints the import graph between the parts of src/ named in specs/architecture.md's layer order:
// one line per (from part -> to part) with the number of imports, `UP` when it goes against the
// order. `--files` lists each import under its edge. The tidy test (test/tidy.test.ts) checks the
// same order; this is the tool for redesigning it. Run: npx tsx scripts/import-graph.ts [--files]

import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { importsOf, layerIndex, parseLayers, partOf, sourceFiles } from '../test/support/tidy.ts';

const root = new URL('..', import.meta.url).pathname;
const layers = parseLayers(readFileSync(`${root}specs/architecture.md`, 'utf8'));
const parts = layers.flat();
const idx = layerIndex(layers);
const edges = new Map<string, string[]>();
for (const path of sourceFiles(root)) {
  const file = path.slice('src/'.length);
  const from = partOf(file, parts) ?? `?${posix.dirname(file)}`;
  for (const i of importsOf(file, readFileSync(root + path, 'utf8'))) {
    if (!i.spec.startsWith('.')) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), i.spec));
    const to = partOf(target, parts) ?? `?${posix.dirname(target)}`;
    if (to === from) continue;
    const key = `${from} -> ${to}`;
    const list = edges.get(key) ?? [];
    list.push(`${file} => ${target}${i.typeOnly ? ' (type)' : ''}`);
    edges.set(key, list);
  }
}
for (const [key, list] of [...edges].sort()) {
  const [from, to] = key.split(' -> ');
  const up = (idx.get(to) ?? -1) < (idx.get(from) ?? -1) || !idx.has(to) || !idx.has(from);
  console.log(`${up ? 'UP ' : '   '}${key} ${list.length}`);
  if (process.argv.includes('--files')) for (const l of list) console.log(`      ${l}`);
}
