// Test-wide setup. xstate's development build (which vitest resolves) warns "Custom actions should
// not call assign() directly" whenever a root actor's action sends an event to another, separate
// root actor that runs an assign (the node list's node actors are driven from the node root
// machine's actions). The sends are synchronous and correct; production builds do not warn.
// Only that one message is filtered.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('Custom actions should not call `assign()` directly')) return;
  warn(...args);
};

// fast-check: local runs draw a fresh seed each time (fast-check prints it on a failure, so any
// finding replays). CI sets FC_SEED (.ci/run) so that a landing is judged on the same property
// runs every time; a finding made locally becomes a regression test with its counterexample.
import fc from 'fast-check';
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });
