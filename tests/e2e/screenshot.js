// Takes the README's screenshot: the page after drawing a digit, pinning it, sampling its
// region and the prior, and walking to a clicked point.
//   node tests/e2e/screenshot.js [OUT.png]    (after scripts/build-web.sh)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.argv[2] ?? path.join(ROOT, 'www', 'screenshot.png');
const site = await serve(ROOT, '/', {});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(site.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 180_000 });
  const pad = await page.locator('#draw').boundingBox();
  const at = (fx, fy) => [pad.x + fx * pad.width, pad.y + fy * pad.height];
  // A "2": the arc, then the base.
  const two = [[0.3, 0.3], [0.4, 0.2], [0.55, 0.18], [0.68, 0.25], [0.7, 0.38], [0.6, 0.52],
    [0.45, 0.65], [0.3, 0.8], [0.5, 0.8], [0.72, 0.8]];
  await page.mouse.move(...at(...two[0]));
  await page.mouse.down();
  for (const p of two.slice(1)) await page.mouse.move(...at(...p), { steps: 5 });
  await page.mouse.up();
  const idle = () => page.waitForFunction(() => {
    const s = window.latentCanvas?.state();
    return s && s.encoded !== null && s.busy.length === 0 && s.scatter;
  });
  await idle();
  await page.click('#pin');
  await page.click('#sample-region');
  await page.fill('#prior-n', '20');
  await page.click('#sample-prior');
  const plane = await page.locator('#plane').boundingBox();
  await page.mouse.click(plane.x + plane.width * 0.3, plane.y + plane.height * 0.62);
  await page.waitForFunction(() => window.latentCanvas.state().walk !== null);
  await idle();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await site.close();
}
