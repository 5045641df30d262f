// The known bugs the model checker's tests plant in production code, to prove the checker
// (`kdmq check`, src/sim/check.ts) finds each one and shrinks it. A bug is planted per node,
// through the node's faults port (src/ports/faults.ts: createNode's `faults`); the simulator
// plants them with `plant` (World, runPlan, runCheck, explore options). Production passes none.

import type { PlantedBug } from '../ports/faults.ts';

export { plantFaults, noFaults, type Faults, type PlantedBug } from '../ports/faults.ts';

export const PLANTED_BUGS: readonly PlantedBug[] = [
  'forget-tombstones',
  'accept-unknown-senders',
  'no-cseq-guard',
  'gossip-revives-disabled',
  'node-list-no-crlf',
  'cyclic-order',
  'drop-on-full',
];
