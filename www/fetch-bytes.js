// Downloads for the workers: one file as bytes, revalidated with the server (a new deploy is
// seen at once), given up with a message when no byte arrives for a while, with progress; and a
// wasm-bindgen module, its wasm downloaded that way.

import { ModelError } from './protocol.js';

/** A download that receives no byte for this long is given up (the page offers a retry). */
export const STALL_MS = 20_000;

/**
 * Fetches `url` as bytes. Gives up (a ModelError of kind 'fetch') when no byte arrives for
 * `stallMs`; `onProgress(received, total)` follows the download (total: 0 when unknown).
 * @param {URL} url
 * @param {{stallMs?: number, onProgress?: (received: number, total: number) => void}} options
 */
export async function fetchBytes(url, { stallMs = STALL_MS, onProgress = () => {} } = {}) {
  const abort = new AbortController();
  let timer = null;
  const stalled = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), stallMs);
  };
  const failed = (e) => {
    if (abort.signal.aborted) {
      return new ModelError('fetch', `the download of ${url.pathname} stalled (no data for ${stallMs / 1000} s)`);
    }
    return new ModelError('fetch', `could not fetch ${url.pathname}: ${e.message}`);
  };
  try {
    stalled();
    const response = await fetch(url, { cache: 'no-cache', signal: abort.signal });
    if (!response.ok) {
      throw new ModelError('fetch', `${url.pathname} is missing (HTTP ${response.status})`);
    }
    const total = Number(response.headers.get('content-length')) || 0;
    const parts = [];
    let length = 0;
    const reader = response.body.getReader();
    for (;;) {
      stalled();
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      length += value.length;
      onProgress(length, total);
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  } catch (e) {
    throw e instanceof ModelError ? e : failed(e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports the wasm-bindgen glue at `glueUrl` and initialises it with its `<name>_bg.wasm`,
 * downloaded through fetchBytes while the glue loads. A download that fails rejects with its
 * ModelError ('fetch'); a glue or module that does not load, with what the browser said.
 * @param {URL} glueUrl
 * @param {{stallMs?: number}} options
 * @returns {Promise<{module: object, exports: object}>}
 */
export async function importWasm(glueUrl, { stallMs = STALL_MS } = {}) {
  const name = glueUrl.pathname.split('/').pop().replace(/\.js$/, '_bg.wasm');
  const wasmBytes = fetchBytes(new URL(name, glueUrl), { stallMs });
  const glue = import(glueUrl);
  glue.catch(() => {});
  const bytes = await wasmBytes;
  const module = await glue;
  const exports = await module.default({ module_or_path: bytes });
  return { module, exports };
}
