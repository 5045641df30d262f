#!/usr/bin/env node
// kdmq command-line entry. It runs the compiled node (dist/, `npm run build`: tsc with
// tsconfig.build.json; `npm ci`, `npm start` and `npm test` build first) when that build is at least
// as new as every file and folder under src/; otherwise (src edited since, or never built) it runs
// the TypeScript sources through tsx, which gives the same behaviour, only slower to start and
// slower where esbuild's keepNames wraps functions.
// `serve` exits as soon as its stop sequence is done: a timer nobody cleared must not keep a
// stopped node alive (stdout/stderr to files and pipes are written synchronously on Linux).
//
// `check` and `replay` run whole simulated clusters in this one process: they allocate short-lived
// objects (parsed messages, transactions, events) at a high rate, and V8's default young generation
// (16 MB semi-spaces) promotes many of them before they die. With 64 MB semi-spaces the checker
// runs ~15 % faster (bench/README.md, "sim-register"). V8 fixes heap sizes at start-up
// (v8.setFlagsFromString comes too late), so these commands re-run this file once with the flag;
// KDMQ_SEMI_SPACE_MB=0 turns that off, another number sets the size.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const SIM_COMMANDS = new Set(['check', 'replay']);
const semiMb = Number(process.env.KDMQ_SEMI_SPACE_MB ?? 64);
const hasFlag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));

if (SIM_COMMANDS.has(argv[0]) && semiMb > 0 && !hasFlag && !argv.includes('--help') && !argv.includes('-h')) {
  const r = spawnSync(process.execPath, [`--max-semi-space-size=${semiMb}`, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`kdmq: cannot re-run with --max-semi-space-size: ${r.error.message}\n`);
    process.exit(2);
  }
  // a child killed by a signal: the shell convention 128 + signal number
  const signals = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  process.exit(r.status ?? 128 + (signals[r.signal] ?? 1));
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** the latest modification time of a folder, its files and its sub-folders (a removed file changes its folder's) */
function newest(dir) {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** dist/.built is written by `npm run build` after tsc succeeded */
function builtIsCurrent() {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return false;
  try {
    return statSync(join(root, 'dist', '.built')).mtimeMs >= newest(join(root, 'src'));
  } catch {
    return false;
  }
}

let main;
if (builtIsCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(argv);
if (argv[0] === 'serve') process.exit(code);
process.exitCode = code;
