// Test-only switches that plant known bugs in production code, so tests can prove the model
// checker (`kdmq check`, src/sim/check.ts) finds each one and shrinks it. Production code never
// adds to the set; every place that reads it is one line commented
// "test-only switch, see src/sim/planted-bugs.ts". Process-global on purpose: the sim is one process.

export type PlantedBug =
  /** src/actors/location/store.ts entomb(): deletes leave no tombstone (a late update resurrects) */
  | 'forget-tombstones'
  /** src/actors/node/router.ts: data KDMQs from nodes not active in the list are applied */
  | 'accept-unknown-senders'
  /** src/actors/location/store.ts update(): the binding machine's version guard is skipped */
  | 'no-cseq-guard'
  /** src/actors/membership/node-machine.ts: disabled + listed:active → active (not a row of membership.md) */
  | 'gossip-revives-disabled'
  /** src/actors/membership/node-list-body.ts formatNodeList(): the last line has no CRLF (freezes Kamailio 5.6.3) */
  | 'node-list-no-crlf'
  /** src/actors/location/binding-machine.ts compareVersions(): the cyclic order before issue #14 (CSeq within a Call-ID, last_modified across) */
  | 'cyclic-order'
  /** src/actors/channels/usrloc-channel.ts onChange(): changes bypass the outbox, one KDMQ each through a queue that drops the oldest when full (before issue #14) */
  | 'drop-on-full';

export const PLANTED_BUGS: readonly PlantedBug[] = [
  'forget-tombstones',
  'accept-unknown-senders',
  'no-cseq-guard',
  'gossip-revives-disabled',
  'node-list-no-crlf',
  'cyclic-order',
  'drop-on-full',
];

/** the bugs planted right now; empty in production */
export const plantedBugs = new Set<PlantedBug>();

/** run `fn` with `bugs` planted, then remove them again */
export async function withPlantedBugs<T>(bugs: PlantedBug[], fn: () => Promise<T>): Promise<T> {
  for (const b of bugs) plantedBugs.add(b);
  try {
    return await fn();
  } finally {
    for (const b of bugs) plantedBugs.delete(b);
  }
}
