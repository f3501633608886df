// The page, served under a sub-path, in real headless Chromium: drawing, the latent plane,
// the CPU fallback, the backend switch, broken model files, and no request to another origin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ONE, SEVEN, backendSettled, correlation, maxDiff, pixels, planeAt, ready, state, stroke,
  waitState, withPage,
} from './harness.js';

test('drawing a digit shows its input, reconstruction and latent marker', async (t) => {
  await withPage(t, {}, async (page, site, errors) => {
    await ready(page);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    const input = await pixels(page, 'input28');
    const recon = await pixels(page, 'reconstruction');
    assert.ok(input.filter((v) => v > 0.5).length > 30, 'the input view shows the drawing');
    const r = correlation(input, recon);
    assert.ok(r > 0.6, `reconstruction resembles the drawing (correlation ${r.toFixed(3)})`);
    const text = await page.textContent('#encoding');
    assert.match(text, /μ = \(−?\d+\.\d\d, −?\d+\.\d\d\), σ = /);
    // The model line reports what papers report, from the card.
    const card = await page.textContent('#card');
    assert.match(card, /test negative ELBO \d+\.\d nats/);
    assert.match(card, /importance-weighted bound \(k = 1000\) \d+\.\d nats/);
    assert.match(card, /KL per dimension \d+\.\d\d \/ \d+\.\d\d, 2 of 2 units active/);
    assert.match(card, /kept epoch \d+, chosen on 5000 held-out images/);
    assert.match(await page.textContent('#timings'), /round trip through the worker: encode \d/);
    assert.deepEqual(errors, []);
  });
});

test('clicking the plane decodes exactly what the model gives at that z', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    const z = [0.8, -0.6];
    await page.mouse.click(...(await planeAt(page, z)));
    await waitState(page, 's.decoded !== null');
    const { pick, decoded } = await state(page);
    const direct = await page.evaluate((p) => window.latentCanvas.decode(p), pick);
    assert.ok(Math.abs(pick[0] - z[0]) < 0.05 && Math.abs(pick[1] - z[1]) < 0.05, `picked ${pick}`);
    assert.deepEqual(decoded, direct, 'the page shows the decode of the picked z');
    const canvas = await pixels(page, 'decoded');
    const worst = Math.max(...canvas.map((v, i) => Math.abs(v - Math.min(1, Math.max(0, direct[i])))));
    assert.ok(worst <= 1 / 255 + 1e-6, `the #decoded canvas shows the image (max error ${worst})`);
    assert.match(await page.textContent('#z'), /z = \(0\.\d\d, −0\.\d\d\), near the \ds/);
  });
});

test('the manifold toggle decodes the grid in one batch and overlays it', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await page.check('#manifold');
    await waitState(page, 's.manifold');
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
  await withPage(t, { webgpu: false }, async (page) => {
    await ready(page);
    await backendSettled(page);
    const status = await page.textContent('#status');
    assert.match(status, /Backend: CPU/);
    assert.match(status, /no WebGPU/);
    assert.equal(await page.isDisabled('#backend option[value="webgpu"]'), true);
    await stroke(page, ONE);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
});

test('a software WebGPU adapter is not fetched for; picked, its module loads and agrees with the CPU', async (t) => {
  await withPage(t, {}, async (page, site) => {
    await ready(page);
    await backendSettled(page);
    const status = await page.textContent('#status');
    assert.match(status, /Backend: CPU/, status);
    assert.match(status, /software adapter \(google swiftshader\)/, status);
    assert.ok(!site.requests.some((u) => /vae_web_gpu-/.test(u)), 'the WebGPU module was not fetched');
    await page.selectOption('#backend', 'webgpu');
    await page.waitForFunction(() => /Backend: WebGPU/.test(document.getElementById('status').textContent),
      null, { timeout: 180_000 });
    assert.ok(site.requests.some((u) => /vae_web_gpu-[0-9a-f]+_bg\.wasm/.test(u)), 'the WebGPU module was fetched');
    const gpu = await page.evaluate(() => window.latentCanvas.decode([0.3, 0.4]));
    await page.selectOption('#backend', 'cpu');
    await page.waitForFunction(() => /Backend: CPU/.test(document.getElementById('status').textContent));
    const cpu = await page.evaluate(() => window.latentCanvas.decode([0.3, 0.4]));
    const worst = maxDiff(gpu, cpu);
    assert.ok(worst < 2e-3, `WebGPU and CPU agree (max difference ${worst})`);
  });
});

test('asked to measure, the page times WebGPU against the CPU and keeps the faster', async (t) => {
  await withPage(t, { query: '?backend=measure' }, async (page) => {
    await ready(page);
    await backendSettled(page);
    const status = await page.textContent('#status');
    assert.match(status, /measured faster: 100 decodes in/, status);
  });
});

test('a corrupt weights file gives a readable error, not a blank page', async (t) => {
  const overrides = { 'www/model/weights.bpk': Buffer.from('this is not a burnpack file') };
  await withPage(t, { overrides }, async (page) => {
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.ready), 'retry');
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
    await waitState(page, 's.manifold');
    const foreign = urls.filter((u) => !u.startsWith(site.origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(foreign, []);
    const outside = site.requests.filter((u) => !u.startsWith('/sub/path/'));
    assert.deepEqual(outside, [], 'every request stays under the sub-path');
    assert.ok(site.requests.some((u) => u.endsWith('/www/worker.js')), 'the model runs in the worker');
  });
});
