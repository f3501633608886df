// index.html preloads app.js's whole static module graph (so the browser fetches it at once,
// not one import level after another): the list there must be that graph, no more, no less.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The static imports of `www/<file>`, transitively (relative imports only). */
function graph(file, seen = new Set()) {
  const text = fs.readFileSync(path.join(ROOT, 'www', file), 'utf8');
  for (const [, dep] of text.matchAll(/^import [^;]*? from '\.\/([^']+)';/gms)) {
    if (!seen.has(dep)) {
      seen.add(dep);
      graph(dep, seen);
    }
  }
  return seen;
}

test('index.html preloads exactly the modules app.js imports', () => {
  const html = fs.readFileSync(path.join(ROOT, 'index.html'), 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="www\/([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(preloaded.toSorted(), [...graph('app.js')].toSorted());
});
