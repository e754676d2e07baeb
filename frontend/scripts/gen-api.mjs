// Regenerates the console's API types from the server's own OpenAPI document:
// `sluice openapi` prints it, openapi-typescript turns it into src/api/schema.d.ts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(frontend, '..');

const doc = execFileSync(
  'cargo',
  ['run', '-q', '-p', 'sluice-gateway', '--bin', 'sluice', '--', 'openapi'],
  { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
);
// Fail here rather than commit something that is not a document.
JSON.parse(doc);
writeFileSync(resolve(frontend, 'openapi.json'), doc.endsWith('\n') ? doc : doc + '\n');

execFileSync(
  resolve(frontend, 'node_modules/.bin/openapi-typescript'),
  ['openapi.json', '-o', 'src/api/schema.d.ts'],
  { cwd: frontend, stdio: 'inherit' },
);
