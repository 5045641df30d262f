import { SCENARIOS, explore } from '../src/sim/explore.ts';
import { plantedBugs } from '../src/sim/planted-bugs.ts';
if (process.argv[3]) plantedBugs.add(process.argv[3] as never);
const r = await explore(SCENARIOS[process.argv[2]]);
console.log(process.argv[2], process.argv[3] ?? '', r.states, r.replays, (r.wallMs/1000).toFixed(1)+'s', r.truncated, r.violation?.inv, r.violation?.detail, r.path.join(' '));
