// `npx tsx scripts/fuzz.ts [--datagrams N] [--seed S] [--users U]`: runs one fuzz campaign
// (test/support/fuzz-campaign.ts) against a fresh live mixed cluster on loopback (two kdmq + one
// Kamailio 5.6.3), prints the figures as JSON and exits 0 when every node survived with every
// snapshot binding intact, 1 otherwise, 2 on a usage error.
import { checkCluster, registerSnapshotUsers, runCampaign, snapshot, startFuzzCluster } from '../test/support/fuzz-campaign.ts';
import { kamailioAvailable } from '../test/support/kamailio.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} expects a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

const datagrams = arg('datagrams', 100_000);
const seed = arg('seed', Date.now() % 1_000_000);
const users = arg('users', 80);
const avail = kamailioAvailable();
if (!avail.ok) {
  process.stderr.write(`fuzz: Kamailio not available: ${avail.reason}\n`);
  process.exit(2);
}
const c = await startFuzzCluster();
let code = 1;
try {
  await registerSnapshotUsers(c, users);
  const before = await snapshot(c);
  const r = await runCampaign(c, { datagrams, seed, onProgress: (n) => n % 100_000 === 0 && process.stderr.write(`fuzz: ${n} datagrams\n`) });
  const check = await checkCluster(c, before);
  const ok = Object.values(check.alive).every(Boolean) && check.kamailioDmqAnswers && check.diffs.length === 0;
  process.stdout.write(JSON.stringify({ seed, ...r, ...check, diffs: check.diffs.slice(0, 20), ok }, null, 2) + '\n');
  code = ok ? 0 : 1;
} finally {
  await c.stop();
}
process.exit(code);
