// The page, served under a sub-path, in real headless Chromium: drawing, the latent plane,
// the CPU fallback, broken model files, and no request to another origin.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'tests', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const BASE_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

const browsers = [];
async function launch({ webgpu }) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: webgpu ? [...BASE_ARGS, '--enable-unsafe-webgpu'] : BASE_ARGS,
  });
  browsers.push(browser);
  return browser;
}
after(async () => {
  for (const b of browsers) await b.close();
});

/** Opens the page; on failure of `body`, saves a screenshot named after the test. */
async function withPage(t, { webgpu = true, overrides = {}, init = null, query = '' }, body) {
  const site = await serve(ROOT, '/sub/path/', overrides);
  const browser = await launch({ webgpu });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (init) await page.addInitScript(init);
  try {
    await page.goto(site.url + query);
    await body(page, site, errors);
  } catch (e) {
    await fs.mkdir(SHOTS, { recursive: true });
    const file = path.join(SHOTS, `${t.name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${file})`;
    throw e;
  } finally {
    await page.close();
    await site.close();
  }
}

async function ready(page, timeout = 120_000) {
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout });
  const state = await page.evaluate(() => document.body.dataset.ready);
  if (state !== 'true') {
    const msg = await page.textContent('#error');
    throw new Error(`page did not become ready: ${msg}`);
  }
}

/** Waits until the page has settled on a backend (after WebGPU start-up and calibration). */
async function backendSettled(page, timeout = 180_000) {
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout });
}

/** Draws a stroke through `points` (fractions of the pad) with pointer events. */
async function stroke(page, points) {
  const box = await page.locator('#draw').boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** The 28×28 grey values of a view canvas, in [0, 1]. */
async function pixels(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => d[4 * i] / 255);
  }, id);
}

function correlation(a, b) {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let cov = 0, va = 0, vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return cov / Math.sqrt(va * vb);
}

test('drawing a digit shows its input, reconstruction and latent marker', async (t) => {
  await withPage(t, {}, async (page, site, errors) => {
    await ready(page);
    // A "7": top bar, then the diagonal.
    await stroke(page, [[0.25, 0.22], [0.75, 0.22], [0.45, 0.8]]);
    await page.waitForFunction(() => window.latentCanvas.lastEncoded !== null);
    const input = await pixels(page, 'input28');
    const recon = await pixels(page, 'reconstruction');
    assert.ok(input.filter((v) => v > 0.5).length > 30, 'the input view shows the drawing');
    const r = correlation(input, recon);
    assert.ok(r > 0.6, `reconstruction resembles the drawing (correlation ${r.toFixed(3)})`);
    const text = await page.textContent('#encoding');
    assert.match(text, /μ = \(-?\d+\.\d\d, -?\d+\.\d\d\), σ = /);
    // The model line reports what papers report, from the card.
    const card = await page.textContent('#card');
    assert.match(card, /test negative ELBO \d+\.\d nats/);
    assert.match(card, /importance-weighted bound \(k = 1000\) \d+\.\d nats/);
    assert.match(card, /KL per dimension \d+\.\d\d \/ \d+\.\d\d, 2 of 2 units active/);
    assert.match(card, /kept epoch \d+, chosen on 5000 held-out images/);
    assert.deepEqual(errors, []);
  });
});

test('clicking the plane decodes exactly what the wasm decode gives at that z', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    const box = await page.locator('#plane').boundingBox();
    const extent = await page.evaluate(() => window.latentCanvas.card.plane);
    const z = [0.8, -0.6];
    const fx = (z[0] - extent.x_min) / (extent.x_max - extent.x_min);
    const fy = (extent.y_max - z[1]) / (extent.y_max - extent.y_min);
    await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
    await page.waitForFunction(() => window.latentCanvas.lastDecoded !== null);
    const { pick, shown, direct } = await page.evaluate(async () => {
      const app = window.latentCanvas;
      const direct = await app.model.decode(app.lastPick[0], app.lastPick[1]);
      return { pick: app.lastPick, shown: Array.from(app.lastDecoded), direct: Array.from(direct) };
    });
    assert.ok(Math.abs(pick[0] - z[0]) < 0.05 && Math.abs(pick[1] - z[1]) < 0.05, `picked ${pick}`);
    assert.deepEqual(shown, direct, 'the page shows the wasm decode of the picked z');
    const canvas = await pixels(page, 'decoded');
    const worst = Math.max(...canvas.map((v, i) => Math.abs(v - Math.min(1, Math.max(0, direct[i])))));
    assert.ok(worst <= 1 / 255 + 1e-6, `the #decoded canvas shows the image (max error ${worst})`);
    assert.match(await page.textContent('#z'), /z = \(0\.\d\d, -0\.\d\d\)/);
  });
});

test('the manifold toggle decodes the grid in one batch and overlays it', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await page.check('#manifold');
    await page.waitForFunction(() => window.latentCanvas.plane.manifold !== null);
    const dark = await page.evaluate(() => {
      const c = document.getElementById('plane');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 90) n++;
      return n / (d.length / 4);
    });
    assert.ok(dark > 0.3, `the plane shows the black-background grid (${(100 * dark).toFixed(0)} % dark)`);
  });
});

test('without WebGPU the CPU backend runs and the page says so', async (t) => {
  const noGpu = () => { delete Navigator.prototype.gpu; };
  await withPage(t, { webgpu: false, init: noGpu }, async (page) => {
    await ready(page);
    await backendSettled(page);
    const status = await page.textContent('#status');
    assert.match(status, /Backend: CPU/);
    assert.match(status, /no WebGPU/);
    assert.equal(await page.isDisabled('#backend option[value="webgpu"]'), true);
    await stroke(page, [[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForFunction(() => window.latentCanvas.lastEncoded !== null);
  });
});

test('with WebGPU the backend is chosen by measurement and can be switched', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await backendSettled(page);
    const status = await page.textContent('#status');
    assert.match(status, /measured faster: 100 decodes in/, status);
    await page.selectOption('#backend', 'webgpu');
    assert.match(await page.textContent('#status'), /Backend: WebGPU/);
    const [gpu, cpu] = await page.evaluate(async () => {
      const m = window.latentCanvas.model;
      const g = Array.from(await m.decode(0.3, 0.4));
      m.setBackend('cpu');
      const c = Array.from(await m.decode(0.3, 0.4));
      return [g, c];
    });
    const worst = Math.max(...gpu.map((v, i) => Math.abs(v - cpu[i])));
    assert.ok(worst < 2e-3, `WebGPU and CPU agree (max difference ${worst})`);
  });
});

test('a corrupt weights file gives a readable error, not a blank page', async (t) => {
  const overrides = { 'www/model/weights.bpk': Buffer.from('this is not a burnpack file') };
  await withPage(t, { overrides }, async (page) => {
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.ready), 'error');
    assert.equal(await page.isVisible('#error'), true);
    assert.match(await page.textContent('#error'), /weights\.bpk/);
    assert.match(await page.textContent('#status'), /could not be loaded/);
  });
});

test('a missing model card is named in the error', async (t) => {
  await withPage(t, { overrides: { 'www/model/card.json': null } }, async (page) => {
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
    assert.match(await page.textContent('#error'), /card\.json is missing \(HTTP 404\)/);
  });
});

test('the page requests nothing from another origin', async (t) => {
  await withPage(t, {}, async (page, site) => {
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.reload();
    await ready(page);
    await stroke(page, [[0.3, 0.3], [0.7, 0.7]]);
    await page.check('#manifold');
    await page.waitForFunction(() => window.latentCanvas.plane.manifold !== null);
    const foreign = urls.filter((u) => !u.startsWith(site.origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(foreign, []);
    const outside = site.requests.filter((u) => !u.startsWith('/sub/path/'));
    assert.deepEqual(outside, [], 'every request stays under the sub-path');
  });
});
