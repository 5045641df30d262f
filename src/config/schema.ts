// The kdmq configuration schema: every key, its type, default and the Kamailio modparam it mirrors.
// Names here are relied on by tests outside the project: add keys, never rename. Validation is
// in load.ts; docs/configuration.md is written from this table.

export type FieldType =
  | { kind: 'string' }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'bool' }
  | { kind: 'strings' }
  | { kind: 'reply' } // "CODE Reason"
  | { kind: 'map'; of: Record<string, Field> } // free keys (htable tables), each an object
  | { kind: 'stringmap'; value: RegExp; want: string } // free keys, each a string matching `value`
  | { kind: 'object'; fields: Record<string, Field> };

export interface Field {
  type: FieldType;
  default?: unknown;
  doc: string;
  kamailio?: string;
}

const f = (type: FieldType, def: unknown, doc: string, kamailio?: string): Field => ({ type, default: def, doc, kamailio });
const obj = (fields: Record<string, Field>, doc: string): Field => ({ type: { kind: 'object', fields }, doc });

export const htableTableFields: Record<string, Field> = {
  size: f({ kind: 'int', min: 1, max: 31 }, 8, 'hash slots as a power of two (2^size)', 'htable "size"'),
  autoexpire: f({ kind: 'int', min: 0 }, 0, 'seconds until an item expires; 0 = never', 'htable "autoexpire"'),
  updateexpire: f({ kind: 'bool' }, true, 'an update resets the expiry', 'htable "updateexpire"'),
  dmqreplicate: f({ kind: 'bool' }, false, 'replicate changes over DMQ', 'htable "dmqreplicate"'),
  initval: f({ kind: 'string' }, '', 'value returned for a missing key (integer if numeric)', 'htable "initval"'),
  persistent: f({ kind: 'bool' }, false, 'keep the items in the node\'s SQLite file (usrloc.db_path) per usrloc.db_mode', 'htable "dbtable"'),
};

export const schema: Record<string, Field> = {
  listen: f({ kind: 'strings' }, ['udp:127.0.0.1:5060'], 'sockets to open, "udp:IP:PORT", "tcp:IP:PORT" or "tls:IP:PORT" ([IPv6] in brackets)', 'core listen='),
  routing: obj(
    { other_reply: f({ kind: 'reply' }, '500 Nope', 'reply to requests other than REGISTER, OPTIONS and KDMQ', 'sl_reply in request_route') },
    'request routing',
  ),
  dmq: obj(
    {
      server_address: f({ kind: 'string' }, undefined, 'this node\'s DMQ URI, sip:IP:PORT[;transport=tcp|tls] (IP literal, explicit port; a tcp/tls address needs a matching listen)', 'dmq server_address'),
      notification_address: f({ kind: 'strings' }, [], 'seed nodes', 'dmq notification_address'),
      notification_channel: f({ kind: 'string' }, 'notification_peer', 'membership channel name', 'dmq notification_channel'),
      multi_notify: f({ kind: 'bool' }, false, 'expand the first notification address by SRV, A, AAAA', 'dmq multi_notify'),
      ping_interval: f({ kind: 'int', min: 1, max: 86400 }, 60, 'seconds between pings (Kamailio enforces >= 5; kdmq allows 1)', 'dmq ping_interval'),
      allow: f({ kind: 'strings' }, undefined, 'CIDRs allowed to send KDMQ; absent = anyone', undefined),
      fail_remove: f({ kind: 'bool' }, true, 'remove a node after a second failed request (also seed nodes)', undefined),
      leave_on_stop: f({ kind: 'bool' }, true, 'announce status=disabled to the cluster on a clean stop', undefined),
      secret: f({ kind: 'string' }, undefined, 'sign KDMQ between kdmq nodes with HMAC-SHA256 (X-KDMQ-Sig, key id "0"); unsigned KDMQ refused with 403', undefined),
      keyring: f({ kind: 'strings' }, undefined, 'signing keys "ID:SECRET", the first signs, all verify (rotation); replaces dmq.secret', undefined),
      kamailio_peers: f({ kind: 'strings' }, undefined, 'with signing on: CIDRs whose KDMQ may come unsigned (Kamailio nodes cannot sign); absent = none', undefined),
      kamailio_versions: f({ kind: 'stringmap', value: /^\d+\.\d+(\.\d+)?$/, want: 'a Kamailio version like "6.1.5"' }, undefined, 'Kamailio version of nodes, node URI ("sip:IP:PORT") or host → version (e.g. "5.6.3", "6.1"): overrides the version read from their Server/User-Agent header; kdmq writes each node the node-list statuses of its version (6.1+: active, not_active, disabled; older: active, disabled, timeout, pending) and reads a line without status as 6.1 active, else pending', undefined),
      test_block: f({ kind: 'strings' }, undefined, 'TEST ONLY: IPs whose datagrams are dropped in and out; when set (an empty list too) the RPC kdmq.test_block exists and can change them: absent in production, where neither the wrapper nor the RPC exists', undefined),
    },
    'DMQ membership',
  ),
  sip: obj(
    {
      t1: f({ kind: 'int', min: 1 }, 500, 'RFC 3261 T1 in ms', 'tm retr_timer1'),
      t2: f({ kind: 'int', min: 1 }, 4000, 'RFC 3261 T2 in ms', 'tm retr_timer2'),
      t4: f({ kind: 'int', min: 1 }, 5000, 'RFC 3261 T4 in ms', undefined),
      kdmq_timeout: f({ kind: 'int', min: 0 }, 0, 'ms until a KDMQ times out (0 = 64*T1, i.e. 32 s)', 'tm fr_timer'),
    },
    'SIP transaction timers',
  ),
  dmq_usrloc: obj(
    {
      enable: f({ kind: 'bool' }, true, 'replicate the location table', 'dmq_usrloc enable'),
      sync: f({ kind: 'bool' }, true, 'ask the cluster for everything on join', 'dmq_usrloc sync'),
      batch_msg_contacts: f({ kind: 'int', min: 1, max: 150 }, 50, 'contacts per sync message', 'dmq_usrloc batch_msg_contacts'),
      batch_msg_size: f({ kind: 'int', min: 1000, max: 60000 }, 60000, 'bytes per sync body', 'dmq_usrloc batch_msg_size'),
      usrloc_delete: f({ kind: 'bool' }, true, 'replicate deletions', 'dmq_usrloc usrloc_delete'),
      stream_batch_msg_size: f({ kind: 'int', min: 1000, max: 1_000_000 }, 1_000_000, 'bytes per sync body to a kdmq node reached over TCP/TLS (Kamailio nodes and UDP get batch_msg_size)', undefined),
      stream_batch_msg_contacts: f({ kind: 'int', min: 1, max: 10_000 }, 2000, 'contacts per sync body to a kdmq node reached over TCP/TLS', undefined),
    },
    'location replication',
  ),
  registrar: obj(
    {
      default_expires: f({ kind: 'int', min: 0 }, 3600, 'expires when the REGISTER gives none', 'registrar default_expires'),
      min_expires: f({ kind: 'int', min: 0 }, 60, 'below it: 423', 'registrar min_expires'),
      max_expires: f({ kind: 'int', min: 0 }, 0, '0 = no maximum', 'registrar max_expires'),
      max_contacts: f({ kind: 'int', min: 0 }, 0, 'contacts per AoR, 0 = unlimited', 'registrar max_contacts'),
      use_domain: f({ kind: 'bool' }, false, 'AoR is user@domain', 'usrloc use_domain'),
    },
    'registrar',
  ),
  htable: obj(
    {
      enable_dmq: f({ kind: 'bool' }, true, 'replicate tables with dmqreplicate', 'htable enable_dmq'),
      dmq_init_sync: f({ kind: 'bool' }, true, 'ask the cluster for replicated tables on join', 'htable dmq_init_sync'),
      tables: { type: { kind: 'map', of: htableTableFields }, default: {}, doc: 'table name → definition', kamailio: 'htable htable' },
    },
    'hash tables',
  ),
  rpc: obj(
    {
      listen: f({ kind: 'string' }, '127.0.0.1:8060', 'JSON-RPC over HTTP, path /RPC; "" = off', 'jsonrpcs + xhttp'),
      token: f({ kind: 'string' }, undefined, 'when set, every HTTP request needs "Authorization: Bearer <token>" (401 otherwise); required for a non-loopback rpc.listen', undefined),
    },
    'control RPC',
  ),
  ctl: obj(
    {
      binrpc: f({ kind: 'strings' }, [], 'BINRPC sockets for kamcmd and other BINRPC clients, as the modparam: "unix:/path" (stream; also unixs:), "unixd:/path" (datagram), "tcp:IP:PORT", "udp:IP:PORT" (port 2049 when absent); [] = off', 'ctl binrpc'),
      mode: f({ kind: 'int', min: 0, max: 7777 }, 600, 'permissions of the unix sockets, octal digits as Kamailio writes them (600 or 0600 = rw-------)', 'ctl mode'),
      user: f({ kind: 'string' }, undefined, 'owner of the unix sockets (user name or uid)', 'ctl user'),
      group: f({ kind: 'string' }, undefined, 'group of the unix sockets (group name or gid)', 'ctl group'),
    },
    'BINRPC control sockets (Kamailio ctl module: kamcmd); every RPC method, answered as ctl answers',
  ),
  jsonrpcs: obj(
    {
      fifo_name: f({ kind: 'string' }, '', 'JSON-RPC over a FIFO (kamctl with CTLENGINE=RPCFIFO, kamcli): the FIFO\'s path, created at start; "" = off', 'jsonrpcs fifo_name'),
      fifo_mode: f({ kind: 'int', min: 0, max: 7777 }, 660, 'permissions of the FIFO, octal digits (660 = rw-rw----)', 'jsonrpcs fifo_mode'),
      fifo_user: f({ kind: 'string' }, undefined, 'owner of the FIFO (user name or uid)', 'jsonrpcs fifo_user'),
      fifo_group: f({ kind: 'string' }, undefined, 'group of the FIFO (group name or gid)', 'jsonrpcs fifo_group'),
      fifo_reply_dir: f({ kind: 'string' }, '/tmp/', 'directory of the reply FIFOs a request names in "reply_name"', 'jsonrpcs fifo_reply_dir'),
      dgram_socket: f({ kind: 'string' }, '', 'JSON-RPC over datagrams: "/path" (unix datagram socket; needs the optional package node-unix-socket) or "udp:IP:PORT"; "" = off', 'jsonrpcs dgram_socket'),
      dgram_mode: f({ kind: 'int', min: 0, max: 7777 }, 660, 'permissions of the unix datagram socket, octal digits', 'jsonrpcs dgram_mode'),
      dgram_user: f({ kind: 'string' }, undefined, 'owner of the unix datagram socket', 'jsonrpcs dgram_user'),
      dgram_group: f({ kind: 'string' }, undefined, 'group of the unix datagram socket', 'jsonrpcs dgram_group'),
    },
    'JSON-RPC over a FIFO and a datagram socket (Kamailio jsonrpcs: kamctl, kamcli)',
  ),
  usrloc: obj(
    {
      db_mode: f({ kind: 'int', min: 0, max: 3 }, 0, '0 memory only, 1 write-through (written before the 200), 2 write-back every timer_interval, 3 DB-only as Kamailio\'s: written before the 200 and each REGISTER and ul.lookup reads its AoR\'s rows from the database first (rows other nodes wrote to a shared database are seen; see docs/kamailio-database.md for replication)', 'usrloc db_mode'),
      db_path: f({ kind: 'string' }, 'kdmq-usrloc.sqlite', 'SQLite file of this node when db_url is absent: Kamailio\'s location table (usrloc-create.sql, version 9) and kdmq_htable for persistent htable items; a file of kdmq\'s earlier schema is migrated at start', 'usrloc db_url (sqlite)'),
      db_url: f({ kind: 'string' }, undefined, 'the location database in Kamailio\'s form instead of db_path: sqlite:////absolute/path.db or postgres://user:pass@host:port/db (table location, version 9; made with Kamailio\'s DDL when absent)', 'usrloc db_url'),
      server_id: f({ kind: 'int', min: 0, max: 2147483647 }, 0, 'this node\'s server_id, written with the bindings it makes (replicated ones keep their origin\'s), as Kamailio\'s core server_id', 'core server_id'),
      timer_interval: f({ kind: 'int', min: 1, max: 3600 }, 60, 'seconds between write-back flushes (db_mode 2)', 'usrloc timer_interval'),
    },
    'location persistence',
  ),
  antientropy: obj(
    {
      interval: f({ kind: 'int', min: 0, max: 86400 }, 30, 'seconds between digest exchanges with kdmq nodes (kdmq-ae channel); 0 = off', undefined),
      buckets: f({ kind: 'int', min: 16, max: 4096 }, 1024, 'hash buckets per digest (AoR / item-name ranges)', undefined),
      window: f({ kind: 'int', min: 1, max: 64 }, 8, 'repair datagrams in flight per peer', undefined),
    },
    'kdmq-to-kdmq anti-entropy (specs/anti-entropy.md)',
  ),
  limits: obj(
    {
      max_bindings: f({ kind: 'int', min: 0 }, 2_000_000, 'bindings (contacts) per node, 0 = unlimited; REGISTER over it: 503 + Retry-After, replicated insert: 503', undefined),
      htable_max_items: f({ kind: 'int', min: 0 }, 1_000_000, 'items per hash table, 0 = unlimited; a new item over it is refused (RPC error, KDMQ 503)', undefined),
      max_datagram: f({ kind: 'int', min: 512, max: 65535 }, 65535, 'bytes per SIP datagram; larger: 513 Message Too Large', 'core BUF_SIZE'),
      max_body: f({ kind: 'int', min: 0, max: 65535 }, 65535, 'bytes per SIP body; larger: 413 Request Entity Too Large (default: a UDP body is bounded by max_datagram alone, as in Kamailio)', undefined),
      max_headers: f({ kind: 'int', min: 10 }, 65535, 'header lines per SIP request; more: 513 Message Too Large (default: more than a 65 535-byte header section can hold; Kamailio 5.6.3 counts none)', undefined),
      max_pending_transactions: f({ kind: 'int', min: 1 }, 100_000, 'server transactions waiting for their answer (answered ones, kept 37 s for retransmissions, do not count); over it: 503 + Retry-After, sent statelessly', undefined),
      sync_requests_per_minute: f({ kind: 'int', min: 0 }, 12, 'sync requests (usrloc action 3, htable action 1) answered per sending node per minute, 0 = unlimited; over it: 503 + Retry-After', undefined),
      register_rate: f({ kind: 'int', min: 0 }, 10_000, 'REGISTERs per second per source IP (token bucket; a proxy in front sends all from one IP), 0 = unlimited; over it: 503 + Retry-After', undefined),
      register_burst: f({ kind: 'int', min: 1 }, 20_000, 'token bucket depth of register_rate', undefined),
      peer_in_flight: f({ kind: 'int', min: 1, max: 10_000 }, 64, 'outgoing data KDMQ (usrloc, htable, kdmq-ae, sync answers) in flight per peer; the next waits until one is answered or times out (a slow peer sets the pace)', undefined),
      peer_queue: f({ kind: 'int', min: 0 }, 10_000, 'outgoing anti-entropy digests waiting per peer beyond peer_in_flight; over it the oldest digest is dropped (kdmq_peer_queue_dropped_total{peer,channel}: the next round repeats it). Replicated changes and sync answers are never dropped (replication_* below)', undefined),
      replication_max_lag: f({ kind: 'int', min: 0 }, 2000, 'ms: when the oldest change owed to a live active node has waited longer, changes (REGISTER, unregister, htable RPC writes) are refused with 503 + Retry-After before they are made, so what was answered 200 reaches every node; 0 = no lag limit', undefined),
      replication_max_backlog: f({ kind: 'int', min: 0 }, 100_000, 'changes owed to one live active node (waiting, in flight, to retry; each key once: coalesced); over it changes are refused as for replication_max_lag; 0 = no backlog limit', undefined),
      replication_batch: f({ kind: 'int', min: 1, max: 1000 }, 100, 'changes waiting for one node sent together in one usrloc `multi` KDMQ (at most dmq_usrloc.batch_msg_size bytes); 1 = one change per KDMQ. htable changes go one per KDMQ (Kamailio has no batch form for them)', 'dmq_usrloc batch_msg_contacts (sync only in Kamailio)'),
      max_queue_wait: f({ kind: 'int', min: 0, max: 60_000 }, 1000, 'ms a SIP request other than KDMQ may wait in the node\'s receive queue (a node short of CPU); older: 503 + Retry-After at once, before any work (its retransmissions get the same 503) (kdmq_limit_refusals_total{limit="queue_wait"}), so answers stay prompt under overload; the answers of a node far over its capacity stay prompt, but it then gets far less done than its capacity (a FIFO with a deadline: see specs/replication.md R1a); 0 = off', undefined),
      replication_retry: f({ kind: 'int', min: 10, max: 60_000 }, 500, 'ms before a refused KDMQ (5xx, 403) is sent again; a timed-out one is sent again at once; a 4xx for one change is not retried (logged, kdmq_replication_rejected_total)', undefined),
      max_nodes: f({ kind: 'int', min: 2 }, 64, 'node-list entries (local node included) that received node lists may create; a line over it is ignored (kdmq_node_list_refused_total); seeds always fit. Kamailio 5.6.3 handles about 25', 'dmq NBODY_LEN (1024-byte list)'),
    },
    'limits: every refusal is a SIP error with a reason and a kdmq_limit_refusals_total{limit} count',
  ),
  tcp: obj(
    {
      max_connections: f({ kind: 'int', min: 1 }, 2048, 'TCP/TLS connections, in and out; an inbound one over it is refused, an outbound one closes the oldest', 'core tcp_max_connections'),
      connection_lifetime: f({ kind: 'int', min: 1 }, 120, 'seconds a connection may stay idle', 'core tcp_connection_lifetime'),
      connect_timeout: f({ kind: 'int', min: 1 }, 10, 'seconds to connect', 'core tcp_connect_timeout'),
      max_message: f({ kind: 'int', min: 1024, max: 16_777_216 }, 1_048_576, 'bytes per SIP message on TCP/TLS (also the body limit there); larger: 513 and the connection closed', 'core tcp_rd_buf_size'),
      backoff_max: f({ kind: 'int', min: 1 }, 30, 'seconds: the longest wait before reconnecting after failed connects (doubling from 0.1 s)', undefined),
      kamailio_rd_buf_size: f({ kind: 'int', min: 2048, max: 16_777_216 }, 4096, 'the tcp_rd_buf_size of the Kamailio nodes (their largest TCP/TLS message; 5.6.3 default 4096): sync bodies to Kamailio over TCP/TLS stay under it', 'core tcp_rd_buf_size (of the peers)'),
    },
    'SIP over TCP and TLS (listen tcp:/tls:, ;transport=tcp|tls in node URIs)',
  ),
  tls: obj(
    {
      certificate: f({ kind: 'string' }, undefined, 'PEM file: this node\'s certificate (chain); needed by a tls: listen', 'tls certificate'),
      private_key: f({ kind: 'string' }, undefined, 'PEM file: its private key', 'tls private_key'),
      ca_list: f({ kind: 'string' }, undefined, 'PEM file: CAs trusted for peer certificates (default: the system CAs)', 'tls ca_list'),
      verify_peer: f({ kind: 'bool' }, true, 'check the peer certificate chain (as client: the server\'s; as server: a client\'s when presented); host names are not checked, as in Kamailio', 'tls verify_certificate'),
      require_certificate: f({ kind: 'bool' }, false, 'as server: refuse clients without a certificate', 'tls require_certificate'),
    },
    'TLS for tls: listens and ;transport=tls nodes',
  ),
  siptrace: obj(
    {
      duplicate_uri: f({ kind: 'string' }, undefined, 'where the trace copies go: sip:IP:PORT (IP literal, [IPv6] in brackets; port 5060 when absent; UDP only), e.g. a HOMER or sngrep HEP listener', 'siptrace duplicate_uri'),
      trace_on: f({ kind: 'bool' }, true, 'mirroring on at start; RPC siptrace.status on|off|check changes it at run time', 'siptrace trace_on'),
      trace_mode: f({ kind: 'int', min: 0, max: 7 }, 0, 'what every SIP and KDMQ datagram in and out is copied as, bits as Kamailio\'s core-event mirroring: 1 = HEP to duplicate_uri, 4 = the plain datagram to duplicate_uri (5 = both); 0 = off. 2 (a database) is refused. kdmq has no sip_trace() calls, so 0 mirrors nothing', 'siptrace trace_mode'),
      hep_mode_on: f({ kind: 'bool' }, false, 'Kamailio\'s switch for HEP in sip_trace() calls; kdmq mirrors by trace_mode alone and accepts it (a warning when set with trace_mode 0, which mirrors nothing)', 'siptrace hep_mode_on'),
      hep_version: f({ kind: 'int' }, 3, 'HEP version: 3 only (1 and 2 are refused)', 'siptrace hep_version'),
      hep_capture_id: f({ kind: 'int', min: 0, max: 4294967295 }, 1, 'capture agent id in every HEP packet (32 bits)', 'siptrace hep_capture_id'),
      auth_key: f({ kind: 'string' }, undefined, 'HEP auth key chunk (HOMER checks it when set)', 'siptrace auth_key'),
      queue_size: f({ kind: 'int', min: 1, max: 1_000_000 }, 10_000, 'trace copies waiting to be sent; over it a copy is dropped (stats siptrace:hep_dropped), never the SIP datagram', undefined),
    },
    'HEPv3 mirroring of SIP and KDMQ traffic as Kamailio\'s siptrace (docs/tracing.md)',
  ),
  dns: obj({ servers: f({ kind: 'strings' }, undefined, 'DNS servers IP[:PORT]; default from /etc/resolv.conf', 'core dns settings') }, 'DNS'),
  auth: obj(
    {
      enable: f({ kind: 'bool' }, false, 'authenticate REGISTER with digest: 401 challenge (also for a wrong password or an unknown user, as Kamailio\'s auth_check + auth_challenge), 403 for another user\'s AoR, 500 when the subscriber store cannot answer; false: any UA may register any AoR (said at start)', 'auth_check() in the route (set by --kamailio-cfg when auth_db is loaded)'),
      realm: f({ kind: 'string' }, undefined, 'digest realm; absent: the To domain of each REGISTER', 'auth_check/auth_challenge realm "" (To domain for REGISTER)'),
      db_url: f({ kind: 'string' }, undefined, 'subscriber database, table subscriber (version 7 in table version, Kamailio\'s auth_db-create.sql): sqlite:////absolute/path.db (sqlite:///relative.db) or postgres://user:pass@host:port/db', 'auth_db db_url'),
      users_file: f({ kind: 'string' }, undefined, 'instead of db_url: lines user@domain:password, user@domain:md5:HA1 or user@domain:sha256:HA1 (# comments); a line\'s domain is the realm it serves', undefined),
      calculate_ha1: f({ kind: 'bool' }, false, 'true: the password column is clear text and HA1 is computed; false: it holds HA1 (ha1b for a username with @domain), 32 hex digits for MD5, 64 for SHA-256', 'auth_db calculate_ha1'),
      password_column: f({ kind: 'string' }, undefined, 'column of the password or HA1; absent: password with calculate_ha1, else ha1', 'auth_db password_column'),
      use_domain: f({ kind: 'bool' }, false, 'look subscribers up by username and domain (the digest username\'s @domain, else the realm); false: by username alone', 'auth_db use_domain'),
      algorithms: f({ kind: 'strings' }, ['MD5'], 'digest algorithms offered, one WWW-Authenticate each, preferred first (RFC 8760): MD5, SHA-256', 'auth algorithm'),
      nonce_expire: f({ kind: 'int', min: 10, max: 86400 }, 300, 'seconds a nonce is good for; good credentials on an older one get 401 stale=true', 'auth nonce_expire'),
      secret: f({ kind: 'string' }, undefined, 'secret the nonces are bound to (16+ characters; the same on every node lets a nonce of one be used at another); absent: random at start', 'auth secret'),
      cache_ttl: f({ kind: 'int', min: 0, max: 3600 }, 60, 'seconds a subscriber row (or its absence) is kept in memory, 100 000 rows at most; 0 = the database is asked for every authenticated REGISTER', undefined),
    },
    'digest authentication of REGISTER (Kamailio auth + auth_db)',
  ),
};
