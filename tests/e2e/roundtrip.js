// Round-trip times through the model worker, as the page sees them (from sending a request to
// its result on the main thread), for drawing and for picking points: medians and 90th
// percentiles over a few strokes and drags. Prints one line per kind.
//   node tests/e2e/roundtrip.js        (after scripts/build-web.sh)

import { chromium } from 'playwright-core';
import { ROOT, planeAt, stroke, waitState } from './harness.js';
import { serve } from './server.js';

const site = await serve(ROOT, '/', {});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(site.url);
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 180_000 });
  for (let i = 0; i < 10; i++) {
    await page.click('#clear');
    await stroke(page, [[0.25, 0.2 + i * 0.01], [0.75, 0.22], [0.45, 0.8]]);
    await waitState(page, 's.busy.length === 0');
  }
  for (let i = 0; i < 5; i++) {
    const [x, y] = await planeAt(page, [-2, -2 + i * 0.3]);
    const [x2, y2] = await planeAt(page, [2, 2 - i * 0.3]);
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x2, y2, { steps: 30 });
    await page.mouse.up();
    await waitState(page, 's.busy.length === 0');
  }
  const samples = await page.evaluate(() => window.latentCanvas.timings());
  const backend = await page.evaluate(() => document.body.dataset.backend);
  const q = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(p * v.length))];
  for (const [kind, label] of [['encode', 'encode a drawing'], ['pick', 'decode a picked point']]) {
    const v = samples[kind] ?? [];
    console.log(`${label} through the worker (${backend}): median ${q(v, 0.5).toFixed(1)} ms, 90th percentile ${q(v, 0.9).toFixed(1)} ms over ${v.length} requests`);
  }
} finally {
  await browser.close();
  await site.close();
}
