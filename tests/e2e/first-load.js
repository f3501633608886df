// The page's first view as a visitor on a slow network gets it: the site served with gzip (as
// GitHub Pages serves it) from a local server, headless Chromium with its network emulation at
// 10 Mbit/s and 40 ms round trip. Draws a "1" as soon as the page is ready and prints
//   - every file fetched before that first interaction: bytes on the wire, raw, gzip -9, brotli;
//   - the time from navigation to ready, and to the first encoded drawing.
//   node tests/e2e/first-load.js [SITE_ROOT]     (SITE_ROOT: a built checkout; default: this one)
//   WEBGPU=0 runs Chromium without WebGPU; THROTTLE=0 leaves the network as it is; RUNS=n
//   repeats (median times printed); WATERFALL=1 prints when each request started and ended.

import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ONE, stroke } from './gestures.js';
import { serve } from './server.js';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROOT = path.resolve(process.argv[2] ?? HERE);
const PREFIX = '/site/';
const THROTTLE = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };
const webgpu = process.env.WEBGPU !== '0';
const runs = Number(process.env.RUNS ?? 3);
const throttled = process.env.THROTTLE !== '0';

async function once(browser, site) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttled) await cdp.send('Network.emulateNetworkConditions', THROTTLE);
  // Playwright reports the worker's requests as the page's too.
  const fetched = [];
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes();
    const t = request.timing();
    fetched.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize, start: t.startTime, end: t.startTime + t.responseEnd });
  });
  await page.goto(site.url, { waitUntil: 'commit' });
  await page.waitForFunction(() => document.body?.dataset.ready, null, { timeout: 120_000, polling: 20 });
  const readyMs = await page.evaluate(() => performance.now());
  if ((await page.evaluate(() => document.body.dataset.ready)) !== 'true') {
    throw new Error(`the page failed to load: ${await page.textContent('#error')}`);
  }
  const before = [...fetched];
  if (process.env.WATERFALL) {
    const t0 = Math.min(...before.map((f) => f.start));
    for (const f of before.toSorted((a, b) => a.start - b.start)) {
      console.log(`${(f.start - t0).toFixed(0).padStart(6)} → ${(f.end - t0).toFixed(0).padStart(6)} ms  ${new URL(f.url).pathname}`);
    }
  }
  await stroke(page, ONE);
  const encodeMs = await page.waitForFunction(
    () => window.latentCanvas.state().encoded !== null && performance.now(), null, { polling: 'raf' },
  ).then((h) => h.jsonValue());
  await context.close();
  return { readyMs, encodeMs, fetched: before };
}

const site = await serve(ROOT, PREFIX, {}, { gzip: true });
const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: webgpu ? [...args, '--enable-unsafe-webgpu'] : [...args, '--disable-blink-features=WebGPU'],
});
try {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(browser, site));
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const kb = (n) => (n / 1e3).toFixed(1).padStart(8);
  console.log(`site ${ROOT}, WebGPU ${webgpu ? 'on' : 'off'}, network ${throttled ? '10 Mbit/s, 40 ms RTT' : 'not throttled'}, ${runs} runs`);
  console.log(`${'fetched before the first interaction'.padEnd(44)}    wire kB     raw kB    gzip kB  brotli kB`);
  const totals = [0, 0, 0, 0];
  for (const { url, bytes } of results[0].fetched.sort((a, b) => b.bytes - a.bytes)) {
    const rel = decodeURIComponent(new URL(url).pathname).slice(PREFIX.length) || 'index.html';
    let sizes = [NaN, NaN, NaN];
    try {
      const body = await fs.readFile(path.join(ROOT, rel));
      sizes = [body.length, zlib.gzipSync(body, { level: 9 }).length,
        zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length];
    } catch { /* not a file (an error page) */ }
    [bytes, ...sizes].forEach((v, i) => { totals[i] += v || 0; });
    console.log(`${rel.padEnd(44)} ${kb(bytes)}   ${kb(sizes[0])}   ${kb(sizes[1])}   ${kb(sizes[2])}`);
  }
  console.log(`${'total'.padEnd(44)} ${totals.map(kb).join('   ')}`);
  console.log(`navigation → ready: median ${median(results.map((r) => r.readyMs)).toFixed(0)} ms ` +
    `(${results.map((r) => r.readyMs.toFixed(0)).join(', ')})`);
  console.log(`navigation → first encoded drawing: median ${median(results.map((r) => r.encodeMs)).toFixed(0)} ms ` +
    `(${results.map((r) => r.encodeMs.toFixed(0)).join(', ')})`);
} finally {
  await browser.close();
  await site.close();
}
