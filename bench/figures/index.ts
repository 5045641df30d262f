// The registered benchmark figures, in table order. To add a figure: write one `Figure` (see
// bench/lib.ts) in its own file under bench/figures/ and append it here; bench/run.ts does the
// rest (repetitions, statistics, the table, the JSON results).

import type { Figure } from '../lib.ts';
import { antiEntropyRoundFigure } from './antientropy.ts';
import { registerRateDbModeFigure } from './register-dbmode.ts';
import { registerAuthFigure } from './register-auth.ts';
import { registerDbModePgFigure } from './register-dbmode-pg.ts';
import { failureDefaultFigure, failureFastFigure } from './failure.ts';
import { failureLossFigure } from './failure-loss.ts';
import { parserFigure } from './parser.ts';
import { fuzzCampaignFigure } from './fuzz-campaign.ts';
import { registrarMemoryFigure } from './registrar-memory.ts';
import { registrarRateFigure } from './registrar-rate.ts';
import { registerClusterFigure } from './register-cluster.ts';
import { simSpeedFigure } from './sim-speed.ts';
import { simCheckFigure } from './sim-check.ts';
import { simSpeedRegisterFigure } from './sim-speed-register.ts';
import { traceOverheadFigure } from './trace-overhead.ts';
import { outboxCostFigure } from './outbox-cost.ts';
import { usrlocLatencyFigure, usrlocSync100kFigure, usrlocSync10kFigure } from './usrloc.ts';

export const figures: Figure[] = [parserFigure, failureFastFigure, failureLossFigure, failureDefaultFigure, simCheckFigure, simSpeedFigure, usrlocLatencyFigure, usrlocSync10kFigure, usrlocSync100kFigure, traceOverheadFigure, registrarRateFigure, outboxCostFigure, registerClusterFigure, registrarMemoryFigure, simSpeedRegisterFigure, antiEntropyRoundFigure, registerRateDbModeFigure, registerAuthFigure, registerDbModePgFigure, fuzzCampaignFigure];
