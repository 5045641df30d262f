// The validated configuration as the node factory and the CLI see it (keys as in schema.ts).

export interface HtableTableConfig {
  size: number;
  autoexpire: number;
  updateexpire: boolean;
  dmqreplicate: boolean;
  initval: string;
  /** absent in hand-built configs: false */
  persistent?: boolean;
}

export interface KdmqConfig {
  listen: string[];
  routing: { other_reply: string };
  dmq: {
    server_address?: string;
    notification_address: string[];
    notification_channel: string;
    multi_notify: boolean;
    ping_interval: number;
    allow?: string[];
    fail_remove: boolean;
    /** node URI or host → Kamailio version (node-dialect.ts) */
    kamailio_versions?: Record<string, string>;
    leave_on_stop: boolean;
    secret?: string;
    keyring?: string[];
    kamailio_peers?: string[];
    /** TEST ONLY: IPs whose datagrams are dropped in and out; absent in hand-built configs */
    test_block?: string[];
  };
  sip: { t1: number; t2: number; t4: number; kdmq_timeout: number };
  dmq_usrloc: {
    enable: boolean; sync: boolean; batch_msg_contacts: number; batch_msg_size: number; usrloc_delete: boolean;
    /** absent in hand-built configs: batch_msg_size / batch_msg_contacts apply to streams too */
    stream_batch_msg_size?: number;
    stream_batch_msg_contacts?: number;
  };
  registrar: { default_expires: number; min_expires: number; max_expires: number; max_contacts: number; use_domain: boolean };
  htable: { enable_dmq: boolean; dmq_init_sync: boolean; tables: Record<string, HtableTableConfig> };
  rpc: { listen: string; token?: string };
  /** absent in hand-built configs: off (BINRPC, src/control/binrpc/) */
  ctl?: { binrpc: string[]; mode: number; user?: string; group?: string };
  /** absent in hand-built configs: off (src/control/jsonrpc-local.ts) */
  jsonrpcs?: JsonrpcsConfig;
  /** absent in hand-built configs: db_mode 0 */
  usrloc?: { db_mode: number; db_path: string; db_url?: string; server_id?: number; timer_interval: number };
  /** absent in hand-built configs: off */
  antientropy?: { interval: number; buckets: number; window: number };
  /** absent in hand-built configs (simulator, tests): the schema defaults apply (DEFAULT_LIMITS) */
  limits?: LimitsConfig;
  dns: { servers?: string[] };
  /** absent in hand-built configs: off (src/trace/hep-mirror.ts) */
  siptrace?: SiptraceConfig;
  /** absent in hand-built configs: off */
  auth?: AuthConfig;
  /** absent in hand-built configs: the schema defaults (streams are used only with tcp:/tls: listens or node URIs) */
  tcp?: TcpConfig;
  tls?: TlsConfig;
}

/** JSON-RPC over a FIFO and a datagram socket (schema.ts `jsonrpcs:`) */
export interface JsonrpcsConfig {
  fifo_name: string;
  fifo_mode: number;
  fifo_user?: string;
  fifo_group?: string;
  fifo_reply_dir: string;
  dgram_socket: string;
  dgram_mode: number;
  dgram_user?: string;
  dgram_group?: string;
}

export interface TcpConfig {
  max_connections: number;
  connection_lifetime: number;
  connect_timeout: number;
  max_message: number;
  backoff_max: number;
  /** absent in hand-built configs: 4096 (Kamailio's default) */
  kamailio_rd_buf_size?: number;
}

export interface TlsConfig {
  certificate?: string;
  private_key?: string;
  ca_list?: string;
  verify_peer: boolean;
  require_certificate: boolean;
}

export interface LimitsConfig {
  max_bindings: number;
  htable_max_items: number;
  max_datagram: number;
  max_body: number;
  max_headers: number;
  max_pending_transactions: number;
  sync_requests_per_minute: number;
  register_rate: number;
  register_burst: number;
  /** outgoing flow control per peer (node-flow.ts) */
  peer_in_flight: number;
  peer_queue: number;
  /** the replication outbox and its admission control (replication-outbox.ts) */
  replication_max_lag: number;
  replication_max_backlog: number;
  replication_batch: number;
  replication_retry: number;
  /** ms a client request may wait in the live transport's receive queue (request-limits.ts) */
  max_queue_wait: number;
  /** node-list entries gossip may create (notification-cycle.ts) */
  max_nodes: number;
}

/** digest authentication of REGISTER (schema.ts `auth:`, src/config/auth.ts) */
export interface AuthConfig {
  enable: boolean;
  realm?: string;
  db_url?: string;
  users_file?: string;
  calculate_ha1: boolean;
  password_column?: string;
  use_domain: boolean;
  algorithms: string[];
  nonce_expire: number;
  secret?: string;
  cache_ttl: number;
}

/** HEP mirroring (schema.ts `siptrace:`) */
export interface SiptraceConfig {
  duplicate_uri?: string;
  trace_on: boolean;
  trace_mode: number;
  hep_mode_on: boolean;
  hep_version: number;
  hep_capture_id: number;
  auth_key?: string;
  queue_size: number;
}
