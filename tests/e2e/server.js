// A static file server for the tests: serves the repository root under a sub-path (as a
// static host would), records every request, and can corrupt, hide or stall a file on demand;
// optionally gzips what a static host would (as GitHub Pages does).

import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';

/** Types a static host compresses. */
const COMPRESSED = new Set(['.html', '.js', '.css', '.json', '.wasm', '.svg', '.bin', '.bpk']);

/** An override that stalls: headers and a few bytes, then nothing until the server closes. */
export const STALL = Symbol('stall');

/** An override that serves the file as it is, `ms` later (a slow round trip for one file). */
export const delayed = (ms) => ({ delayMs: ms });

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
 * `overrides` maps a path below the prefix to a Buffer to serve instead, null for a 404, or
 * `STALL` for a response that sends its headers and then nothing, or `delayed(ms)` for the
 * file itself, served `ms` later. `options.gzip`: compress
 * responses as a static host would; `options.cache`: cache headers as GitHub Pages sends them
 * (`max-age=600` and an ETag, answering a matching `If-None-Match` with 304). The returned
 * `setRoot(dir)` serves another tree from then on (a new deploy).
 */
export async function serve(root, prefix, overrides = {}, options = {}) {
  const requests = [];
  const stalled = new Set();
  const send = (req, res, file, body) => {
    const headers = { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' };
    if (options.cache) {
      const etag = `"${crypto.createHash('sha1').update(body).digest('hex')}"`;
      headers['cache-control'] = 'max-age=600';
      headers.etag = etag;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
    }
    if (options.gzip && COMPRESSED.has(path.extname(file)) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      headers['content-encoding'] = 'gzip';
      body = zlib.gzipSync(body, { level: 6 });
    }
    res.writeHead(200, headers).end(body);
  };
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
    if (overrides[rel]?.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, overrides[rel].delayMs));
    } else if (rel in overrides) {
      const body = overrides[rel];
      if (body === null) {
        res.writeHead(404).end('hidden by the test');
      } else if (body === STALL) {
        res.writeHead(200, { 'content-type': TYPES[path.extname(rel)] ?? 'application/octet-stream' });
        res.write(Buffer.alloc(16));
        stalled.add(res);
      } else {
        send(req, res, rel, body);
      }
      return;
    }
    const file = path.join(root, rel);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    let body;
    try {
      body = await fs.readFile(file);
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    send(req, res, file, body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    setRoot: (dir) => { root = dir; },
    close: () => {
      for (const res of stalled) res.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
