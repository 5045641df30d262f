// The faults port: which known bugs are planted in this node. Only the model checker's tests plant
// any (src/sim/planted-bugs.ts lists them and what each proves); `kdmq serve` passes nothing and the
// node runs with `noFaults`. Each node gets its own set through its ports bundle (createNode), so
// in the simulator a bug planted in one node never reaches another. Every place that reads it is
// one line commented "planted fault, see src/ports/faults.ts".

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
  /** src/actors/location/binding-machine.ts orderFor(): the cyclic order before issue #14 (CSeq within a Call-ID, last_modified across) */
  | 'cyclic-order'
  /** src/actors/channels/usrloc-channel.ts onChange(): changes bypass the outbox, one KDMQ each through a queue that drops the oldest when full (before issue #14) */
  | 'drop-on-full';

/** the bugs planted in one node (read-only: nothing in the node adds or removes one) */
export interface Faults {
  has(bug: PlantedBug): boolean;
}

/** production: no bug planted */
export const noFaults: Faults = Object.freeze({ has: () => false });

/** a node with `bugs` planted (a frozen copy: later changes to the argument do not reach it) */
export function plantFaults(bugs: Iterable<PlantedBug>): Faults {
  const set: ReadonlySet<PlantedBug> = new Set(bugs);
  if (set.size === 0) return noFaults;
  return Object.freeze({ has: (bug: PlantedBug) => set.has(bug) });
}
