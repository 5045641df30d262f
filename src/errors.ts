// The error catalog (issue #16 item 5, specs/errors.md; the idea is fastify's lib/errors.js): every
// failure kdmq reports to the outside has a code, a message template (`%s` filled in order) and
// where it goes: a config error is one stderr line and exit status 2; an RPC error is a JSON-RPC /
// BINRPC fault with Kamailio's numeric code; a protocol error is a SIP status with its reason, or
// a counted drop. The texts are relied on by tests and tools outside the project: never reword.

export type ErrorKind = 'config' | 'rpc' | 'sip' | 'drop';

export interface ErrorSpec {
  readonly kind: ErrorKind;
  /** the text, `%s` for each argument in order */
  readonly message: string;
  /** rpc: the fault code (Kamailio's); sip: the response status; config: the exit status */
  readonly status?: number;
  /** drop: the counter that counts it (TransactionStats field, as exported in docs/metrics.md) */
  readonly counter?: string;
}

const config = (message: string): ErrorSpec => ({ kind: 'config', message, status: 2 });
const rpc = (status: number, message: string): ErrorSpec => ({ kind: 'rpc', message, status });
const sip = (status: number, message: string): ErrorSpec => ({ kind: 'sip', message, status });
const drop = (message: string, counter: string): ErrorSpec => ({ kind: 'drop', message, counter });

export const ERRORS = {
  // config (src/config/load.ts): one line naming the key, exit 2
  KDMQ_CONFIG_SYNTAX: config('config file is not valid YAML or JSON: %s'),
  KDMQ_CONFIG_TYPE: config('config key %s: expected %s, got %s'),
  KDMQ_CONFIG_UNKNOWN_KEY: config('config key %s: unknown key'),
  KDMQ_CONFIG_SET_SYNTAX: config('--set %s: expected key.path=value'),
  KDMQ_CONFIG_SET_PATH: config('--set %s: not a key path'),
  KDMQ_CONFIG_LISTEN_EMPTY: config('config key listen: at least one udp:IP:PORT is needed'),
  KDMQ_CONFIG_LISTEN_ADDRESS: config('config key listen: "%s" is not udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT'),
  KDMQ_CONFIG_TLS_FILES: config('config key tls.certificate: a tls: listen needs tls.certificate and tls.private_key'),
  KDMQ_CONFIG_SERVER_ADDRESS: config('config key dmq.server_address: "%s" must be sip:IP:PORT[;transport=tcp|tls] with an IP literal and an explicit port'),
  KDMQ_CONFIG_SERVER_ADDRESS_LISTEN: config('config key dmq.server_address: "%s" needs the listen %s'),
  KDMQ_CONFIG_NOTIFICATION_ADDRESS: config('config key dmq.notification_address: "%s" is not a sip: URI'),
  KDMQ_CONFIG_NOTIFICATION_TRANSPORT: config('config key dmq.notification_address: "%s" has transport "%s" (udp, tcp or tls)'),
  KDMQ_CONFIG_RPC_LISTEN: config('config key rpc.listen: "%s" is not HOST:PORT'),
  KDMQ_CONFIG_DMQ_KEYS: config('config key %s: %s'),
  KDMQ_CONFIG_KAMAILIO_PEERS_CIDR: config('config key dmq.kamailio_peers: "%s" is not a CIDR'),
  KDMQ_CONFIG_KAMAILIO_PEERS_UNSIGNED: config('config key dmq.kamailio_peers: needs dmq.secret or dmq.keyring (signing off lets every sender in)'),
  KDMQ_CONFIG_RPC_TOKEN: config('config key rpc.token: needs 16 or more printable characters, no spaces'),
  KDMQ_CONFIG_RPC_OFF_LOOPBACK: config('config key rpc.listen: "%s" is not a loopback address: set rpc.token (or KDMQ_RPC_TOKEN) to serve RPC there'),
  KDMQ_CONFIG_RPC_BIND: config('rpc.listen %s: %s'),
  // config, the auth: section and the databases (src/config/auth.ts, src/cli/auth-setup.ts)
  KDMQ_CONFIG_AUTH_TWO_SOURCES: config('config key auth.users_file: set auth.db_url or auth.users_file, not both'),
  KDMQ_CONFIG_DB_URL: config('config key %s: "%s" is not sqlite:////absolute/path.db (or sqlite:///relative/path.db) or postgres://user:pass@host:port/db'),
  KDMQ_CONFIG_DB_URL_UNSUPPORTED: config('config key %s: %s:// is not supported (sqlite:////absolute/path.db or postgres://user:pass@host:port/db)'),
  KDMQ_CONFIG_AUTH_NO_SOURCE: config('config key auth.enable: needs auth.db_url (the subscriber table) or auth.users_file'),
  KDMQ_CONFIG_AUTH_ALGORITHM_TWICE: config('config key auth.algorithms: %s names one twice'),
  KDMQ_CONFIG_AUTH_REALM: config('config key auth.realm: %s must be non-empty, without quotes, backslashes or control characters'),
  KDMQ_CONFIG_AUTH_PASSWORD_COLUMN: config('config key auth.password_column: %s is not a column name'),
  KDMQ_CONFIG_AUTH_SECRET: config('config key auth.secret: needs 16 or more characters'),
  KDMQ_CONFIG_AUTH_USERS_FILE_READ: config('config key auth.users_file: cannot read %s: %s'),
  KDMQ_CONFIG_AUTH_USERS_FILE_NO_USERS: config('config key auth.users_file: no user@domain:password lines in %s'),
  KDMQ_CONFIG_AUTH_DB_URL_KIND: config('config key auth.db_url: "%s" is not a SQLite or PostgreSQL URL'),
  KDMQ_CONFIG_AUTH_DB: config('config key auth.db_url: %s'),

  // RPC (src/control/): JSON-RPC 2.0 errors and Kamailio's faults
  KDMQ_RPC_PARSE_ERROR: rpc(-32700, 'Parse error'),
  KDMQ_RPC_INVALID_REQUEST: rpc(-32600, 'Invalid Request'),
  KDMQ_RPC_METHOD_NOT_FOUND: rpc(500, 'Method Not Found'),
  KDMQ_RPC_INTERNAL: rpc(500, 'Internal error: %s'),
  KDMQ_RPC_COMMAND_NOT_FOUND: rpc(500, 'command not found'),
  KDMQ_RPC_INVALID_PARAMS: rpc(500, 'Invalid Parameters'),
  KDMQ_RPC_INVALID_KEYS: rpc(500, 'Invalid Parameters: %s'),
  KDMQ_RPC_FAILURE: rpc(500, 'Failure'),
  KDMQ_RPC_SIGNING_OFF: rpc(500, 'KDMQ signing is off (no dmq.secret or dmq.keyring)'),
  KDMQ_RPC_UL_PARAMS: rpc(500, 'Not enough parameters (table and AOR to %s)'),
  KDMQ_RPC_UL_CONTACT_PARAMS: rpc(500, 'Not enough parameters (table, AOR and contact)'),
  KDMQ_RPC_UL_DOMAIN_TABLE: rpc(500, 'Domain table not found'),
  KDMQ_RPC_UL_DOMAIN_MISSING: rpc(500, 'Domain missing in AOR'),
  KDMQ_RPC_UL_AOR_NOT_FOUND: rpc(500, 'AOR not found in location table'),
  KDMQ_RPC_UL_RM_AOR_NOT_FOUND: rpc(404, 'AOR not found'),
  KDMQ_RPC_UL_CONTACT_NOT_FOUND: rpc(404, 'Contact not found'),
  KDMQ_RPC_UL_LIMIT: rpc(503, 'Service Unavailable (limit %s)'),
  KDMQ_RPC_SIPTRACE_PARAMS: rpc(500, 'Not enough parameters (on, off or check)'),
  KDMQ_RPC_SIPTRACE_BAD_PARAM: rpc(500, 'Bad parameter (on, off or check)'),
  KDMQ_RPC_HTABLE_NO_NAME: rpc(500, 'No htable name given'),
  KDMQ_RPC_HTABLE_NOT_FOUND: rpc(500, 'No such htable'),
  KDMQ_RPC_HTABLE_NONE: rpc(500, 'No htables'),
  KDMQ_RPC_HTABLE_GET_PARAMS: rpc(500, 'Not enough parameters (htable name and key name)'),
  KDMQ_RPC_HTABLE_NO_KEY: rpc(500, "Key name doesn't exist in htable."),
  KDMQ_RPC_HTABLE_SET_PARAMS: rpc(500, 'Not enough parameters (htable name, key name and value)'),
  KDMQ_RPC_HTABLE_SETEX_PARAMS: rpc(500, 'Not enough parameters (htable name, item name and expire)'),
  KDMQ_RPC_HTABLE_SETX_PARAMS: rpc(500, 'Not enough parameters (htable name, key name, value and expire)'),
  KDMQ_RPC_HTABLE_DELETE_PARAMS: rpc(500, 'Not enough parameters (htable name & key name'),
  KDMQ_RPC_HTABLE_SET_FAILED: rpc(500, 'Failed to set the item'),
  KDMQ_RPC_HTABLE_KEY_NOT_FOUND: rpc(404, 'Key not found in htable.'),
  KDMQ_RPC_BINRPC_BAD_REQUEST: rpc(400, 'bad request: %s'),
  KDMQ_RPC_BINRPC_BAD_METHOD: rpc(400, 'bad request method: %s'),
  KDMQ_RPC_BINRPC_NO_COMMAND: rpc(500, 'command %s not found'),
  // RPC over HTTP (src/control/rpc-http.ts): the HTTP status and a text/plain body
  KDMQ_RPC_HTTP_UNAUTHORIZED: rpc(401, '401 Unauthorized: rpc.token is set, send "Authorization: Bearer <token>"'),
  KDMQ_RPC_HTTP_NOT_FOUND: rpc(404, 'not found'),
  KDMQ_RPC_HTTP_METHOD: rpc(405, 'use POST'),
  KDMQ_RPC_HTTP_TOO_LARGE: rpc(413, 'request body over 1 MB'),
  KDMQ_RPC_HTTP_INTERNAL: rpc(500, 'Internal error'),

  // protocol (src/sip/parser.ts, src/transport/): the reason of a 400 is the parse error
  KDMQ_SIP_EMPTY: sip(400, 'empty message'),
  KDMQ_SIP_NO_EMPTY_LINE: sip(400, 'no empty line after the headers'),
  KDMQ_SIP_CONTINUATION_FIRST: sip(400, 'continuation line before any header'),
  KDMQ_SIP_BAD_HEADER_LINE: sip(400, "bad header line '%s'"),
  KDMQ_SIP_CONTROL_CHARACTER: sip(400, 'control character in the header section'),
  KDMQ_SIP_CONTENT_LENGTH_CONFLICT: sip(400, 'conflicting Content-Length headers'),
  KDMQ_SIP_BODY_SHORT: sip(400, 'body shorter than Content-Length (%s < %s)'),
  KDMQ_SIP_BAD_VERSION: sip(400, "bad SIP version '%s'"),
  KDMQ_SIP_BAD_STATUS_LINE: sip(400, "bad status line '%s'"),
  KDMQ_SIP_BAD_STATUS_CODE: sip(400, "bad status code '%s'"),
  KDMQ_SIP_BAD_REQUEST_LINE: sip(400, "bad request line '%s'"),
  KDMQ_SIP_BAD_METHOD: sip(400, "bad method '%s'"),
  KDMQ_SIP_BAD_REQUEST_URI: sip(400, "bad Request-URI '%s'"),
  KDMQ_SIP_UNSUPPORTED_VERSION: sip(400, 'unsupported SIP version %s'),
  KDMQ_SIP_CSEQ_METHOD: sip(400, 'CSeq method %s does not match %s'),
  KDMQ_SIP_BAD_REQUEST: sip(400, 'Bad Request'),
  // protocol, header values (src/sip/headers.ts, src/sip/scan.ts): inside "bad HEADER: …"
  KDMQ_SIP_TRAILING_TEXT: sip(400, "unexpected text after %s: '%s'"),
  KDMQ_SIP_DISPLAY_NAME_UNTERMINATED: sip(400, 'unterminated quoted display name'),
  KDMQ_SIP_DISPLAY_NAME_NO_ADDRESS: sip(400, 'expected < after quoted display name'),
  KDMQ_SIP_BAD_DISPLAY_NAME: sip(400, "bad display name '%s'"),
  KDMQ_SIP_NAME_ADDR_UNCLOSED: sip(400, 'missing > in name-addr'),
  KDMQ_SIP_BAD_VIA: sip(400, "bad Via '%s'"),
  KDMQ_SIP_VIA_UNTERMINATED: sip(400, 'unterminated quoted string in Via'),
  KDMQ_SIP_BAD_CSEQ: sip(400, "bad CSeq '%s'"),
  KDMQ_SIP_CONTACT_UNTERMINATED: sip(400, 'unterminated quoted string in Contact'),
  KDMQ_SIP_BAD_Q: sip(400, "bad q value '%s'"),
  KDMQ_SIP_BAD_NUMBER: sip(400, "bad %s: '%s'"),
  KDMQ_SIP_NUMBER_RANGE: sip(400, '%s out of range: %s'),
  KDMQ_SIP_MESSAGE_TOO_LARGE: sip(513, 'Message Too Large'),
  KDMQ_SIP_TOO_MANY_HEADERS: sip(513, 'Message Too Large (too many headers)'),
  KDMQ_SIP_BODY_TOO_LARGE: sip(413, 'Request Entity Too Large'),
  KDMQ_SIP_PENDING_TRANSACTIONS: sip(503, 'Service Unavailable (limit pending_transactions)'),
  KDMQ_SIP_OVERLOADED: sip(503, 'Service Unavailable (overloaded)'),
  KDMQ_DROP_PARSE_ERROR: drop('a SIP message that did not parse or validate and is not answered', 'parseErrors'),
  KDMQ_DROP_UNANSWERABLE: drop('a broken request dropped because no response could be formed', 'unanswerable'),
  KDMQ_DROP_STRAY_RESPONSE: drop('a response that matches no client transaction', 'strayResponses'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** the message of `code` with its `%s` filled in order */
export function errorText(code: ErrorCode, ...args: ReadonlyArray<string | number>): string {
  const template: string = ERRORS[code].message;
  if (args.length === 0) return template;
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++]));
}
