// `npm run build`: compiles src/ to dist/ (tsc -p tsconfig.build.json, incremental) and, when tsc
// succeeds, writes dist/.built with the time the build started. bin/kdmq.mjs runs dist/ only while
// that stamp is at least as new as everything under src/, so a file saved during the build makes the
// next run use the sources (through tsx) until the next build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = `${root}dist/.built`;
const started = new Date();
rmSync(stamp, { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('kdmq build: tsc failed; bin/kdmq.mjs runs the sources through tsx until a build succeeds\n');
  process.exit(r.status ?? 1);
}
mkdirSync(`${root}dist`, { recursive: true });
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
