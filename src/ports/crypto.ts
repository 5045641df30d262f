// The crypto port's live implementation: HMAC-SHA256 (hex) from node:crypto, for signed KDMQ
// (src/actors/kdmq-auth.ts). Deterministic, so `kdmq serve` and the simulator share it.

import { createHmac } from 'node:crypto';
import type { CryptoPort } from '../actors/kdmq-auth.ts';

export const nodeCrypto: CryptoPort = {
  hmac: (key, data) => createHmac('sha256', key).update(data).digest('hex'),
};
