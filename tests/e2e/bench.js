// Runs www/bench.html in headless Chromium (WebGPU through SwiftShader) and prints its
// figures. (What the first view transfers: tests/e2e/first-load.js.)
//   node tests/e2e/bench.js        (after scripts/build-web.sh; see scripts/bench-web.sh)

import path from 'node:path';
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
} finally {
  await browser.close();
  await site.close();
}
