// Flow control for bulk KDMQ (sync answers): at most `window` requests in flight, the next one
// sent when an earlier one is answered or times out. The receiver's own reply pace sets the rate,
// so nothing overruns a socket buffer (an unpaced sender loses 40 % of datagrams on loopback).

export interface WindowResult {
  sent: number;
  answered: number;
  failed: number;
}

export function sendWindowed(
  bodies: readonly string[],
  window: number,
  sendOne: (body: string, done: (code: number) => void) => void,
  onFinish?: (r: WindowResult) => void,
): void {
  const r: WindowResult = { sent: 0, answered: 0, failed: 0 };
  let next = 0;
  let inFlight = 0;
  const pump = (): void => {
    while (inFlight < window && next < bodies.length) {
      const body = bodies[next++];
      inFlight++;
      r.sent++;
      sendOne(body, (code) => {
        inFlight--;
        if (code >= 200 && code < 300) r.answered++;
        else r.failed++;
        if (next < bodies.length) pump();
        else if (inFlight === 0) onFinish?.(r);
      });
    }
    if (bodies.length === 0) onFinish?.(r);
  };
  pump();
}
