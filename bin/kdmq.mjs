#!/usr/bin/env node
// kdmq command-line entry: registers tsx so the TypeScript sources run directly on Node 20.
// `serve` exits as soon as its stop sequence is done: a timer nobody cleared must not keep a
// stopped node alive (stdout/stderr to files and pipes are written synchronously on Linux).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const argv = process.argv.slice(2);
const code = await main(argv);
if (argv[0] === 'serve') process.exit(code);
process.exitCode = code;
