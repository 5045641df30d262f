// `kdmq COMMAND --help` prints that command's usage on stdout and exits 0 (ctl has its own --help:
// the node's methods, tested with a live node in test/e2e/serve.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandUsage, main } from '../../src/cli/main.ts';

afterEach(() => vi.restoreAllMocks());

describe('kdmq COMMAND --help', () => {
  it.each([
    ['serve', ['--config', '--kamailio-cfg', '--set', '--log-level', '--trace']],
    ['check', ['--nodes', '--seeds', '--faults', '--exhaustive', '--shrink-steps', '--max-states', '3 crash or incomplete', '7 non-deterministic']],
    ['replay', ['--as', '--exact']],
    ['trace', ['import', 'export', 'show', '--html']],
  ])('%s --help names its options and exits 0', async (cmd, words) => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    for (const flag of ['--help', '-h']) expect(await main([cmd, flag])).toBe(0);
    expect(out[0]).toBe(out[1]);
    expect(out[0]).toMatch(new RegExp(`^usage: kdmq ${cmd} `));
    for (const w of words) expect(out[0]).toContain(w);
  });

  it('has no usage for an unknown command', () => {
    expect(commandUsage('nope')).toBeNull();
  });
});
