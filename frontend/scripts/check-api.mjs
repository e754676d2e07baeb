// Fails when src/api/schema.d.ts is not what openapi-typescript makes of the
// committed openapi.json, i.e. someone edited the types by hand or forgot gen:api.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'sluice-check-api-'));
const out = join(dir, 'schema.d.ts');
try {
  execFileSync(
    resolve(frontend, 'node_modules/.bin/openapi-typescript'),
    ['openapi.json', '-o', out],
    { cwd: frontend, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const want = readFileSync(out, 'utf8');
  const have = readFileSync(resolve(frontend, 'src/api/schema.d.ts'), 'utf8');
  if (want !== have) {
    console.error('src/api/schema.d.ts is out of date with openapi.json: run `npm run gen:api`');
    process.exit(1);
  }
  console.log('src/api/schema.d.ts matches openapi.json');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
