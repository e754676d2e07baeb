// Writes a gzip and a brotli copy beside each text asset of the production build, so
// the gateway sends them compressed (it picks by the browser's Accept-Encoding) without
// compressing on every request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const TEXT = /\.(js|css|html|svg|json|map)$/;
let files = 0;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (TEXT.test(name) && statSync(path).size >= 1024) {
      const bytes = readFileSync(path);
      writeFileSync(path + '.gz', gzipSync(bytes, { level: 9 }));
      writeFileSync(
        path + '.br',
        brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      );
      files += 1;
    }
  }
}

walk(dist);
console.log(`precompressed ${files} files in dist/ (gzip and brotli)`);
