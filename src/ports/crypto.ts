// The crypto port: what the node needs of cryptography (signed KDMQ, src/actors/dmq/kdmq-auth.ts).
// The live implementation, over node:crypto, is src/ports/node-crypto.ts; the simulator uses it too.

/** HMAC-SHA256 of `data` under `key`, as lowercase hex */
export interface CryptoPort {
  hmac(key: string, data: string): string;
}
