// The usrloc record of one binding (kamailio-dmq-protocol.md §5.3): the fields Kamailio's dmq_usrloc
// sends for a contact, as the location store hands them out (binding.ts toRecord) and the usrloc
// codec (actors/channels/usrloc-body.ts) reads and writes them.

export interface UsrlocContact {
  aor: string;
  ruid: string;
  c: string;
  received: string;
  path: string;
  callid: string;
  user_agent: string;
  instance: string;
  expires: number;
  cseq: number;
  flags: number;
  cflags: number;
  q: number;
  last_modified: number;
  methods: number;
  reg_id: number;
  server_id: number;
  sock?: string;
}
