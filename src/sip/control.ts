// Control characters in a header section (RFC 3261 §25.1: header lines are TEXT-UTF8char, LWS and
// CRLF only): C0 controls but HT, DEL, and CR other than before LF. findControl scans the bytes four
// at a time (it runs on every message: the plain loop cost a sixth of a REGISTER's parse);
// controlError names the char and the line that holds it, for the 400's reason phrase.

import { clip, trimWs } from './scan.ts';

/** 1 for the bytes a header line may never hold (CR is checked apart: allowed before LF) */
const BAD = new Uint8Array(256);
for (let c = 0; c < 32; c++) if (c !== 9 && c !== 10 && c !== 13) BAD[c] = 1;
BAD[127] = 1;

/** the same set on text, CR included when no LF follows (`$`: a head ends just before its last LF) */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n|$)/;
const CONTROL_ALL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n|$)/g;

// one Int32Array view over the last buffer scanned (slabs and pooled buffers come back)
let viewOf: ArrayBufferLike | null = null;
let view: Int32Array<ArrayBufferLike> = new Int32Array(0);

function badAt(b: Uint8Array, k: number, to: number): boolean {
  const c = b[k];
  return BAD[c] === 1 || (c === 13 && k + 1 < to && b[k + 1] !== 10);
}

/** index of the first control byte of b[from, to) (a CR not followed by LF counts, unless last), or -1 */
export function findControl(b: Uint8Array, from: number, to: number): number {
  const base = b.byteOffset;
  let i = from;
  while (i < to && ((base + i) & 3) !== 0) {
    if (badAt(b, i, to)) return i;
    i++;
  }
  const wEnd = (base + to) >> 2;
  if (wEnd > (base + i) >> 2) {
    if (viewOf !== b.buffer) {
      viewOf = b.buffer;
      view = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2);
    }
    const w32 = view;
    for (let w = (base + i) >> 2; w < wEnd; w++) {
      const x = w32[w];
      const y = x ^ 0x7f7f7f7f;
      // a byte below 0x20 or equal to 0x7f somewhere in the word (false hits are checked bytewise)
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) {
        const p = (w << 2) - base;
        for (let k = p; k < p + 4; k++) if (badAt(b, k, to)) return k;
      }
    }
    i = (wEnd << 2) - base;
  }
  for (; i < to; i++) if (badAt(b, i, to)) return i;
  return -1;
}

/** the header section text without its control chars (a 400 is formed from what is left) */
export function withoutControls(head: string): string {
  return head.replace(CONTROL_ALL, '');
}

/** What the first control char of `head` is and which line holds it; null when there is none. */
export function controlError(head: string): string | null {
  const at = head.search(CONTROL);
  if (at < 0) return null;
  const c = head.charCodeAt(at);
  const what = c === 13 ? 'bare CR' : c === 0 ? 'NUL (0x00)' : `control character 0x${c.toString(16).padStart(2, '0')}`;
  const startLine = head.startsWith('SIP/') ? 'status line' : 'request line';
  let ls = head.lastIndexOf('\n', at - 1) + 1;
  if (ls === 0) return `${what} in the ${startLine}`;
  let folded = false;
  // a continuation line: the header it continues is the nearest line above not starting with LWS
  while (ls > 0 && (head.charCodeAt(ls) === 32 || head.charCodeAt(ls) === 9)) {
    folded = true;
    ls = head.lastIndexOf('\n', ls - 2) + 1;
  }
  if (ls === 0) return `${what} in a folded line of the ${startLine}`;
  let le = head.indexOf('\n', ls);
  if (le < 0) le = head.length;
  const colon = head.indexOf(':', ls);
  const hasName = colon >= 0 && colon < le;
  const name = clip(trimWs(withoutControls(head.slice(ls, hasName ? colon : le))));
  if (folded) return `${what} in a folded line of header ${name}`;
  if (!hasName || at < colon) return `${what} in the name of header ${name}`;
  return `${what} in header ${name}`;
}
