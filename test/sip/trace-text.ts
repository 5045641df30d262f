// Splitter for the sip.txt dumps in /work/shared/fixtures/kamailio-traces: each message follows an
// `=== #n  t=…  src -> dst  (N bytes)  start line` line, printed with LF and its trailing blank
// lines stripped. Rebuilds the exact datagram: CRLF line ends, body padded by Content-Length.

export interface TraceMessage {
  index: number;
  src: string;
  dst: string;
  /** datagram size announced by the dump */
  bytes: number;
  startLine: string;
  data: Uint8Array;
}

const HEADER = /^=== #(\d+)\s+t=\S+\s+\[[^\]]*\]\s+(\S+) -> (\S+)\s+\((\d+) bytes\)\s+(.*)$/;

export function splitTrace(text: string): TraceMessage[] {
  const out: TraceMessage[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const m = HEADER.exec(lines[i]);
    i++;
    if (m === null) continue;
    const block: string[] = [];
    while (i < lines.length && !lines[i].startsWith('=== #')) block.push(lines[i++]);
    while (block.length > 0 && block[block.length - 1] === '') block.pop();
    const raw = block.join('\r\n');
    const sep = raw.indexOf('\r\n\r\n');
    const head = sep < 0 ? raw : raw.slice(0, sep);
    let body = sep < 0 ? '' : raw.slice(sep + 4);
    const cl = /^(?:Content-Length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
    const want = cl === null ? 0 : Number(cl[1]);
    while (new TextEncoder().encode(body).length < want) body += '\r\n';
    out.push({
      index: Number(m[1]), src: m[2], dst: m[3], bytes: Number(m[4]), startLine: m[5],
      data: new TextEncoder().encode(`${head}\r\n\r\n${body}`),
    });
  }
  return out;
}
