// Figure 1, parser throughput: messages/s of src/sip's parser (benchParser in bench/parser.ts)
// on a sipp REGISTER and a Kamailio usrloc KDMQ, to header boundaries and fully parsed (Via,
// From, To, Contact, CSeq, Call-ID). In-process, single thread; no Kamailio counterpart (its
// parser is not separable from its SIP worker), so no ratio.

import { benchParser } from '../parser.ts';
import type { Figure } from '../lib.ts';

export const parserFigure: Figure = {
  id: 'parser',
  title: 'SIP parser throughput',
  runs: (quick) => (quick ? 3 : 5),
  rows: () => [
    { label: 'parser REGISTER, boundaries', unit: 'msg/s', kdmq: 'registerBoundaries', kamailioNote: 'no counterpart' },
    { label: 'parser REGISTER, full', unit: 'msg/s', kdmq: 'registerFull', kamailioNote: 'no counterpart', target: { cmp: '>=', value: 150_000 } },
    { label: 'parser KDMQ, boundaries', unit: 'msg/s', kdmq: 'kdmqBoundaries', kamailioNote: 'no counterpart' },
    { label: 'parser KDMQ, full', unit: 'msg/s', kdmq: 'kdmqFull', kamailioNote: 'no counterpart', target: { cmp: '>=', value: 150_000 } },
  ],
  async run(ctx) {
    const r = await benchParser({ seconds: ctx.quick ? 1 : 2 });
    return { ...r };
  },
};
