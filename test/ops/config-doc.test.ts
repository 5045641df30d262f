// docs/configuration.md is generated from src/config/schema.ts: fail when it is stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDoc } from '../../src/ops/config-doc.ts';
import { schema } from '../../src/config/schema.ts';
import { ROOT } from './helpers.ts';

describe('docs/configuration.md', () => {
  it('is up to date with src/config/schema.ts (run `npm run gen-config-doc`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')).toBe(configDoc());
  });
  it('names every key', () => {
    const doc = configDoc();
    for (const [k, f] of Object.entries(schema)) {
      const keys = f.type.kind === 'object' ? Object.keys(f.type.fields).map((s) => `${k}.${s}`) : [k];
      for (const key of keys) expect(doc).toContain(`\`${key}\``);
    }
  });
});
