// A static file server for the tests: serves the repository root under a sub-path (as a
// static host would), records every request, and can corrupt or hide a file on demand.

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Starts a server on 127.0.0.1 (a free port) for `root`, under `prefix` (e.g. "/demo/").
 * `overrides` maps a path below the prefix to a Buffer to serve instead, or null for a 404.
 */
export async function serve(root, prefix, overrides = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    requests.push(req.url);
    const url = new URL(req.url, 'http://localhost');
    let rel = decodeURIComponent(url.pathname);
    if (!rel.startsWith(prefix)) {
      res.writeHead(404).end('outside the site');
      return;
    }
    rel = rel.slice(prefix.length) || 'index.html';
    if (rel.endsWith('/')) rel += 'index.html';
    if (rel in overrides) {
      const body = overrides[rel];
      if (body === null) res.writeHead(404).end('hidden by the test');
      else res.writeHead(200, { 'content-type': TYPES[path.extname(rel)] ?? 'application/octet-stream' }).end(body);
      return;
    }
    const file = path.join(root, rel);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await fs.readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
