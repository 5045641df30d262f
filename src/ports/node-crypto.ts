// The crypto port's live implementation: HMAC-SHA256 (hex) from node:crypto, for signed KDMQ
// (src/actors/dmq/kdmq-auth.ts); the port itself is src/ports/crypto.ts. Deterministic, so `kdmq serve` and the simulator share it.

import { createHmac } from 'node:crypto';
import type { CryptoPort } from './crypto.ts';

export const nodeCrypto: CryptoPort = {
  hmac: (key, data) => createHmac('sha256', key).update(data).digest('hex'),
};
