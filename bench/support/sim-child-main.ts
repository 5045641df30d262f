// Child process entry of sim-child.ts: runs one checker-speed measurement, prints its JSON result.
// A checker process runs simulation after simulation; the first seconds of a fresh process are JIT
// warm-up, so a 3 s simulation of 5 nodes with the same code runs first and is not counted.
const [kind, n, budget, seed] = process.argv.slice(2);
const run = kind === 'register'
  ? (await import('../figures/sim-speed-register.ts')).simSpeedRegister
  : kind === 'check'
    ? (await import('../figures/sim-check.ts')).simCheckSpeed
    : (await import('../figures/sim-speed.ts')).simSpeed;
await run(5, 3000, `${seed}-warm-up`);
const r = await run(Number(n), Number(budget), seed);
process.stdout.write(`${JSON.stringify(r)}\n`);
