// The verdict of one invariant on a capture (kdmq replay CAPTURE --check): pass, FAIL with the
// violations and the frames that show each, or not decidable when the capture lacks what it needs.

import type { Frame } from './history-frames.ts';

export interface CaptureViolation {
  /** the frame that shows it */
  f: Frame;
  text: string;
  /** the other frames that show it */
  frames: string;
}

export interface Verdict {
  inv: string;
  verdict: 'pass' | 'FAIL' | 'not decidable';
  /** what was checked, or why it cannot be decided */
  detail: string;
  violations: CaptureViolation[];
}

export const verdictOf = (inv: string, violations: CaptureViolation[], detail: string, decidable = true): Verdict => ({
  inv, verdict: violations.length ? 'FAIL' : decidable ? 'pass' : 'not decidable', detail, violations,
});
