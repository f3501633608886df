// Runs www/bench.html in headless Chromium (WebGPU through SwiftShader) and prints its
// figures, plus the transfer size of everything the page loads, raw and gzipped.
//   node tests/e2e/bench.js        (after scripts/build-web.sh; see scripts/bench-web.sh)

import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const site = await serve(ROOT, '/', {});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await browser.newPage();
  // First interaction: time from navigation until the page is ready to draw.
  const t0 = Date.now();
  await page.goto(site.url + 'index.html?backend=cpu');
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120_000 });
  const readyMs = Date.now() - t0;
  await page.goto(site.url + 'www/bench.html?runs=' + (process.env.RUNS ?? 20));
  await page.waitForFunction(() => window.benchResult, null, { timeout: 600_000 });
  const result = await page.evaluate(() => window.benchResult);
  result.page_ready_ms_cpu = readyMs;
  console.log(JSON.stringify(result));
  // What the page fetches for its first view: its HTML, scripts (but the bench's own), style,
  // icon, the models index, the wasm and the default model.
  const scripts = (await fs.readdir(path.join(ROOT, 'www')))
    .filter((f) => f.endsWith('.js') && f !== 'bench.js')
    .map((f) => `www/${f}`);
  const files = ['index.html', ...scripts, 'www/style.css', 'www/favicon.svg', 'www/models.json',
    'www/pkg/vae_web.js', 'www/pkg/vae_web_bg.wasm', 'www/model/card.json', 'www/model/weights.bpk',
    'www/model/test-latents.bin'];
  let raw = 0, gz = 0;
  for (const f of files) {
    const b = await fs.readFile(path.join(ROOT, f));
    const g = zlib.gzipSync(b, { level: 9 }).length;
    raw += b.length;
    gz += g;
    console.log(`${f.padEnd(28)} ${String(b.length).padStart(10)} B   gzip -9 ${String(g).padStart(9)} B`);
  }
  console.log(`${'total'.padEnd(28)} ${String(raw).padStart(10)} B   gzip -9 ${String(gz).padStart(9)} B`);
} finally {
  await browser.close();
  await site.close();
}
