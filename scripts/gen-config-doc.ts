// Writes docs/configuration.md from src/config/schema.ts (`npm run gen-config-doc`).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDoc } from '../src/ops/config-doc.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md');
writeFileSync(out, configDoc());
process.stdout.write(`wrote ${out}\n`);
