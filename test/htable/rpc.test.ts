// htable.* RPC (kamailio-rpc-examples.md): result shapes deep-equal to the captured 5.6.3 ones;
// result strings, errors and parameter coercions as a live 5.6.3 answered them over jsonrpcs.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRegistry, dispatch, type RpcRegistry } from '../../src/control/rpc.ts';
import { registerHtableMethods } from '../../src/control/htable-methods.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { HtableStore, type HtableChange } from '../../src/htable/store.ts';
import type { HtableTableConfig } from '../../src/config/types.ts';
import { T0, table } from './helpers.ts';

const EXAMPLES = '/work/shared/reference/kamailio-rpc-examples.md';

/** the captured `result` of `### method params` in kamailio-rpc-examples.md */
function captured(title: string): unknown {
  const text = readFileSync(EXAMPLES, 'utf8');
  const start = text.indexOf(`### ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const body = text.slice(start + title.length + 5);
  const end = body.search(/^(###|```)/m);
  return JSON.parse(body.slice(0, end)).result;
}

async function call(reg: RpcRegistry, method: string, params: unknown[] = []) {
  return JSON.parse(await dispatch(reg, JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 })));
}

function setup(tables: Record<string, HtableTableConfig> = { lab: table() }) {
  const clock = new VirtualClock(T0);
  const store = new HtableStore(tables, clock);
  const changes: HtableChange[] = [];
  store.onChange((c) => changes.push(c));
  const reg = createRegistry();
  registerHtableMethods(reg, store);
  return { clock, store, reg, changes };
}

describe('htable RPC shapes equal the captured Kamailio ones', () => {
  it('dump, get, listTables, stats after the lab’s two items', async () => {
    const { reg } = setup();
    expect((await call(reg, 'htable.sets', ['lab', 'color', 'blue'])).result).toBe('Ok. Key set to new value.');
    expect((await call(reg, 'htable.seti', ['lab', 'counter', 42])).result).toBe('Ok. Key set to new value.');
    expect((await call(reg, 'htable.dump', ['lab'])).result).toEqual(captured('htable.dump ["lab"]'));
    expect((await call(reg, 'htable.get', ['lab', 'color'])).result).toEqual(captured('htable.get ["lab","color"]'));
    expect((await call(reg, 'htable.listTables')).result).toEqual(captured('htable.listTables []'));
    expect((await call(reg, 'htable.stats')).result).toEqual(captured('htable.stats []'));
  });

  it('get of an integer and of an expiring item (live 5.6.3: flags 0, "%Y-%m-%d %H:%M:%S")', async () => {
    const { reg, clock } = setup({ lab: table(), ex: table({ size: 4, autoexpire: 60 }) });
    await call(reg, 'htable.seti', ['lab', 'counter', 42]);
    expect((await call(reg, 'htable.get', ['lab', 'counter'])).result).toEqual({ item: { name: 'counter', value: 42, flags: 0, expire: 'NEVER' } });
    clock.advance(1_795_695_151_000 - T0); // 2026-11-26 12:12:31 UTC
    await call(reg, 'htable.sets', ['ex', 'a', 'b']);
    expect((await call(reg, 'htable.get', ['ex', 'a'])).result).toEqual({ item: { name: 'a', value: 'b', flags: 2, expire: '2026-11-26 12:13:31' } });
    expect((await call(reg, 'htable.setex', ['ex', 'a', 0])).result).toBe('Ok');
    expect((await call(reg, 'htable.get', ['ex', 'a'])).result.item.expire).toBe('NEVER');
    expect((await call(reg, 'htable.setxi', ['ex', 'c', 5, 30])).result).toBe('Ok. Key set to new value.');
    expect((await call(reg, 'htable.get', ['ex', 'c'])).result.item.expire).toBe('2026-11-26 12:13:01');
  });

  it.each<[string, unknown[], number, string]>([
    ['htable.dump', [], 500, 'No htable name given'],
    ['htable.dump', ['nosuch'], 500, 'No such htable'],
    ['htable.get', ['lab'], 500, 'Not enough parameters (htable name and key name)'],
    ['htable.get', ['nosuch', 'k'], 500, 'No such htable'],
    ['htable.get', ['lab', 'nokey'], 500, "Key name doesn't exist in htable."],
    ['htable.sets', ['lab', 'x'], 500, 'Not enough parameters (htable name, key name and value)'],
    ['htable.sets', ['lab', 5, 'v'], 500, 'Not enough parameters (htable name, key name and value)'],
    ['htable.sets', ['lab', 'z', true], 500, 'Not enough parameters (htable name, key name and value)'],
    ['htable.sets', ['nosuch', 'x', 'y'], 500, 'No such htable'],
    ['htable.seti', ['lab', 'x'], 500, 'Not enough parameters (htable name, key name and value)'],
    ['htable.setex', ['lab', 'y'], 500, 'Not enough parameters (htable name, item name and expire)'],
    ['htable.setex', ['nosuch', 'y', 5], 500, 'No such htable'],
    ['htable.setxs', ['lab', 'b', 'v'], 500, 'Not enough parameters (htable name, key name, value and expire)'],
    ['htable.setxi', ['lab', 'b', 1], 500, 'Not enough parameters (htable name, key name, value and expire)'],
    ['htable.setxs', ['nosuch', 'b', 'v', 3], 500, 'Failed to set the item'],
    ['htable.delete', ['lab'], 500, 'Not enough parameters (htable name & key name'],
    ['htable.delete', ['nosuch', 'a'], 500, 'No such htable'],
    ['htable.delete', ['lab', 'nokey'], 404, 'Key not found in htable.'],
    ['htable.flush', [], 500, 'No htable name given'],
    ['htable.flush', ['nosuch'], 500, 'No such htable'],
  ])('%s %j → %i %s', async (method, params, code, message) => {
    const { reg, changes } = setup();
    expect((await call(reg, method, params)).error).toEqual({ code, message });
    if (code === 500) expect(changes).toEqual([]);
  });

  it('value coercions as jsonrpcs does them', async () => {
    const { reg, store } = setup();
    const seti = async (v: unknown) => {
      await call(reg, 'htable.seti', ['lab', 'x', v]);
      return store.get('lab', 'x')!.value;
    };
    expect(await seti('12')).toEqual({ type: 0, intval: 0 });
    expect(await seti(3000000000)).toEqual({ type: 0, intval: -2147483648 });
    expect(await seti(-5)).toEqual({ type: 0, intval: -5 });
    expect(await seti(1.7)).toEqual({ type: 0, intval: 1 });
    expect(await seti(true)).toEqual({ type: 0, intval: 1 });
    expect(await seti(null)).toEqual({ type: 0, intval: 0 });
    await call(reg, 'htable.sets', ['lab', 'y', 1.5]);
    expect(store.get('lab', 'y')!.value).toEqual({ type: 2, strval: '1' });
  });

  it('delete, flush; writes replicate (setx as action 2 then 3), flush does not', async () => {
    const { reg, changes, store } = setup();
    await call(reg, 'htable.sets', ['lab', 'a', 'b']);
    expect((await call(reg, 'htable.delete', ['lab', 'a'])).result).toBe('Ok. Key deleted.');
    await call(reg, 'htable.setxs', ['lab', 'b', 'v', 30]);
    await call(reg, 'htable.setex', ['lab', 'b', 10]);
    expect((await call(reg, 'htable.flush', ['lab'])).result).toBe('Ok. Htable flushed.');
    expect(store.dump('lab')).toEqual([]);
    expect(changes.map((c) => c.action)).toEqual([2, 4, 2, 3, 3]);
  });

  it('no tables: listTables and stats fail as 5.6.3', async () => {
    const { reg } = setup({});
    expect((await call(reg, 'htable.listTables')).error).toEqual({ code: 500, message: 'No htables' });
    expect((await call(reg, 'htable.stats')).error).toEqual({ code: 500, message: 'No htables' });
  });
});
