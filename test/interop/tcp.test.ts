// DMQ over TCP against real Kamailio 5.6.3 (protocol reference §1.1, §1.4; §11 notes TCP was not
// covered by the lab): the shared stream suite (stream-suite.ts) with `;transport=tcp` node URIs.
// Skipped, with the reason printed, when Kamailio 5.6 is not installed.

import { describe } from 'vitest';
import { kamailioAvailable } from '../support/kamailio.ts';
import { streamInteropSuite } from './stream-suite.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[tcp interop] skipped: ${avail.reason}`);

describe.skipIf(!avail.ok)('DMQ over TCP with Kamailio 5.6.3', () => {
  streamInteropSuite({ proto: 'tcp' });
});
