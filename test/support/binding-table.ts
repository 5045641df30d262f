// Reads the binding machine's table of specs/registrar.md ("Binding machine": rows B01…), as
// test/support/membership-table.ts reads specs/membership.md. `—` in the guard or actions column
// means none.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BindingRow {
  id: string;
  state: string;
  event: string;
  guard: string | null;
  actions: string[];
  target: string;
}

const none = (cell: string): boolean => cell === '' || cell === '—' || cell === '-';

export function readBindingRows(): BindingRow[] {
  const path = fileURLToPath(new URL('../../specs/registrar.md', import.meta.url));
  const rows: BindingRow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\|\s*(B\d+)\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const [state, event, guard, actions, target] = m[2].split('|').map((c) => c.trim());
    rows.push({
      id: m[1], state, event, guard: none(guard) ? null : guard,
      actions: none(actions) ? [] : actions.split(',').map((a) => a.trim()), target,
    });
  }
  return rows;
}
