// The validated configuration as the node factory and the CLI see it (keys as in schema.ts).

export interface HtableTableConfig {
  size: number;
  autoexpire: number;
  updateexpire: boolean;
  dmqreplicate: boolean;
  initval: string;
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
    leave_on_stop: boolean;
  };
  sip: { t1: number; t2: number; t4: number; kdmq_timeout: number };
  dmq_usrloc: { enable: boolean; sync: boolean; batch_msg_contacts: number; batch_msg_size: number; usrloc_delete: boolean };
  registrar: { default_expires: number; min_expires: number; max_expires: number; max_contacts: number; use_domain: boolean };
  htable: { enable_dmq: boolean; dmq_init_sync: boolean; tables: Record<string, HtableTableConfig> };
  rpc: { listen: string };
  dns: { servers?: string[] };
}
