// Public face of the SIP message layer (RFC 3261 §7, §19.1, §20, §25): the model types, the lazy
// parser, the writer, URI and header grammar. Other layers import from here.

export type * from './types.ts';
export { parseMessage, validateRequest } from './parser.ts';
export type { MessageParseResult } from './parser.ts';
export { formatUri, parseUri } from './uri.ts';
export { canonicalHeaderName, getParam, headerKey, parseContacts, parseCSeq, parseNameAddr, parseVia } from './headers.ts';
export { responseTo, writeMessage, writeRequest, writeResponse } from './writer.ts';
