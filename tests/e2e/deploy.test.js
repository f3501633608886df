// A new deploy under a returning visitor: two versions of the site served one after the other
// to one browser profile, with GitHub Pages' cache headers (max-age=600 and ETags). The second
// visit must show the new model whole (its card with its own weights) on the new wasm modules,
// never the old card with the new weights or the old glue with a new module.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, SEVEN, stroke, waitState } from './harness.js';
import { serve } from './server.js';

/** Version B of the site: another model under the default model's names (new card, weights,
 *  latents), and the wasm modules under new content-hashed names, as a rebuild gives them. */
async function secondVersion(dir) {
  await fs.cp(path.join(ROOT, 'index.html'), path.join(dir, 'index.html'));
  await fs.cp(path.join(ROOT, 'www'), path.join(dir, 'www'), { recursive: true });
  const www = path.join(dir, 'www');
  for (const f of ['card.json', 'weights.bpk', 'test-latents.bin']) {
    await fs.cp(path.join(www, 'model-kl-off', f), path.join(www, 'model', f));
  }
  const pkg = path.join(www, 'pkg');
  const modules = JSON.parse(await fs.readFile(path.join(pkg, 'modules.json'), 'utf8'));
  for (const [which, glue] of Object.entries(modules)) {
    if (typeof glue !== 'string') continue; // "files": the model files' names, unchanged
    const renamed = glue.replace(/-([0-9a-f]+)\.js$/, '-b$1.js');
    const wasm = (name) => name.replace(/\.js$/, '_bg.wasm');
    await fs.rename(path.join(pkg, wasm(glue)), path.join(pkg, wasm(renamed)));
    // The glue names its wasm only as its default; the worker hands it the bytes itself.
    await fs.rename(path.join(pkg, glue), path.join(pkg, renamed));
    modules[which] = renamed;
  }
  await fs.writeFile(path.join(pkg, 'modules.json'), JSON.stringify(modules));
  return { modules, card: JSON.parse(await fs.readFile(path.join(www, 'model', 'card.json'), 'utf8')) };
}

const profiles = [];
after(async () => {
  for (const p of profiles) await fs.rm(p, { recursive: true, force: true });
});

test('a new deploy is picked up whole by a returning visitor: new card with new weights, new modules', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deploy-'));
  profiles.push(tmp);
  const b = await secondVersion(path.join(tmp, 'b'));
  const site = await serve(ROOT, '/site/', {}, { cache: true });
  const context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--disable-blink-features=WebGPU'],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    const first = await page.evaluate(() => window.latentCanvas.card.metrics.neg_elbo);
    assert.notEqual(first, b.card.metrics.neg_elbo);

    site.setRoot(path.join(tmp, 'b')); // the deploy
    site.requests.length = 0;
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true',
      await page.textContent('#error'));
    const card = await page.evaluate(() => window.latentCanvas.card);
    assert.equal(card.metrics.neg_elbo, b.card.metrics.neg_elbo, 'the new card');
    assert.equal(card.files.weights_sha256, b.card.files.weights_sha256);
    assert.ok(site.requests.some((u) => u.endsWith(`pkg/${b.modules.cpu}`)), 'the new CPU module');
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    const { mean } = (await page.evaluate(() => window.latentCanvas.state())).encoded;
    // The KL-off model's codes spread over tens of units: the drawing was encoded by it.
    assert.ok(Math.hypot(...mean) > 3, `encoded by the new model (μ = ${mean})`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await site.close();
  }
});
