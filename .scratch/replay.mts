import { readFileSync } from 'node:fs';
import { runPlan } from '../src/sim/run-plan.ts';
import { describe } from '../src/sim/check.ts';
import { plantedBugs } from '../src/sim/planted-bugs.ts';
if (process.argv[3]) plantedBugs.add(process.argv[3] as never);
const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const r = await runPlan(plan, { record: true });
console.log(r.verdict, describe(r), r.known);
