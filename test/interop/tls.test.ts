// DMQ over TLS against real Kamailio 5.6.3 (tls module, package kamailio-tls-modules): the shared
// stream suite (stream-suite.ts) with `;transport=tls` node URIs and certificates from a test CA
// (openssl CLI); both sides verify the peer's chain. Skipped, with the reason printed, when
// Kamailio 5.6, its tls module or openssl is missing.

import { rmSync } from 'node:fs';
import { afterAll, describe } from 'vitest';
import { kamailioTlsMissing } from '../support/kamailio.ts';
import { makeCerts, opensslMissing } from '../support/tls-certs.ts';
import { streamInteropSuite } from './stream-suite.ts';

const missing = kamailioTlsMissing() ?? opensslMissing();
if (missing) console.warn(`[tls interop] skipped: ${missing}`);

describe.skipIf(missing !== null)('DMQ over TLS with Kamailio 5.6.3', () => {
  const certs = missing ? null : makeCerts(['node']);
  afterAll(() => {
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  streamInteropSuite({ proto: 'tls', tls: certs ?? undefined });
});
