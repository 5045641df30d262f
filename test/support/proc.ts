// Process helpers for the interop harness: liveness by PID (zombies count as gone), the
// descendants of a PID from /proc, crash-kill of a process tree by PID, running a bounded
// child command, and wrapping a command in a private mount namespace with its own resolv.conf.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** State letter of /proc/<pid>/stat, or undefined when the PID does not exist. */
function procState(pid: number): { state: string; ppid: number; pgrp: number; start: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces/parens: the fields after the last ')' are fixed (state = field 3).
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), start: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

/** True while the PID exists and is not a zombie (PID 1 here may never reap orphans). */
export function pidAlive(pid: number): boolean {
  const st = procState(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** Start time (clock ticks since boot) of a PID: with the PID it identifies one process. */
export function pidStartTime(pid: number): number | undefined {
  return procState(pid)?.start;
}

/** Every live descendant of `pid` (children, grandchildren…), found through /proc ppid links. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procState(Number(name));
    if (!st || st.state === 'Z') continue;
    const list = byParent.get(st.ppid) ?? [];
    list.push(Number(name));
    byParent.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of byParent.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Live members of process group `pgid` (a harness-started process is its own group leader). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procState(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') out.push(Number(name));
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * SIGKILL `pid`, every descendant and the rest of its process group (when `pid` leads one),
 * all by PID, children listed before the parent dies so none is lost to reparenting.
 * With `startTime`, nothing is signalled if `pid` now belongs to another process (PID reuse;
 * a reused PID also means its old process group is empty). Returns the PIDs signalled.
 */
export function killTree(pid: number, ownGroup: boolean, startTime?: number): number[] {
  const st = procState(pid);
  if (st && startTime !== undefined && st.start !== startTime) return [];
  const kids = descendants(pid);
  const group = ownGroup ? groupMembers(pid) : [];
  const all = [...new Set([pid, ...kids, ...group])];
  if (st) signal(pid, 'SIGKILL');
  for (const k of all) if (k !== pid) signal(k, 'SIGKILL');
  return all;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a short command with a hard timeout (SIGKILL of that child by PID); never throws. */
export function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr, timedOut: false });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const timedOut = e.killed === true;
        const code = typeof e.code === 'number' ? e.code : timedOut ? 124 : 127;
        const note = timedOut ? `\n[killed after ${timeoutMs} ms timeout]` : '';
        resolve({ code, stdout: stdout ?? '', stderr: (stderr ?? '') + note, timedOut });
      },
    );
  });
}

/**
 * Command line that runs `cmd args…` in a private mount namespace where /etc/resolv.conf is
 * `resolvConf` (the lab's inns.sh). unshare and sh both exec, so the spawned PID is cmd's PID.
 */
export function withResolvConf(resolvConf: string | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!resolvConf) return [cmd, args];
  return [
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolvConf, cmd, ...args],
  ];
}
