// Faults the page survives: a download that stalls, model files that stop fitting together
// (a new deploy under a loading page), and the WebGPU device lost while in use. (A killed worker:
// teach.test.js; corrupt and missing files: page.test.js.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { STALL, delayed } from './server.js';
import { ONE, ROOT, SEVEN, ready, state, stroke, waitState, withPage } from './harness.js';

/** Waits until the page offers a retry; returns the error it shows. */
async function retryOffered(page) {
  await page.waitForFunction(() => document.body.dataset.ready === 'retry', null, { timeout: 60_000 });
  assert.equal(await page.isVisible('#retry'), true, 'a Retry button is shown');
  return page.textContent('#error');
}

test('a stalled download times out with a message and a Retry button that then loads the page', async (t) => {
  const overrides = { 'www/model/weights.bpk': STALL };
  await withPage(t, { overrides, query: '?stall-ms=1500' }, async (page) => {
    const error = await retryOffered(page);
    assert.match(error, /weights\.bpk stalled \(no data for 1\.5 s\)/, error);
    assert.match(await page.textContent('#status'), /could not be loaded/);
    delete overrides['www/model/weights.bpk']; // the network recovers
    await page.click('#retry');
    await ready(page);
    assert.equal(await page.isVisible('#retry'), false);
    assert.equal(await page.isVisible('#error'), false);
    await stroke(page, ONE);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
});

test('the model files download while the wasm module does, each once', async (t) => {
  // The CPU module stalls: the worker has started the model's downloads meanwhile (their
  // names from modules.json), and the stall is still reported as the module's.
  const { cpu } = JSON.parse(await fs.readFile(path.join(ROOT, 'www/pkg/modules.json'), 'utf8'));
  const wasm = `www/pkg/${cpu.replace(/\.js$/, '_bg.wasm')}`;
  const overrides = { [wasm]: STALL };
  await withPage(t, { overrides, query: '?stall-ms=1500' }, async (page, site) => {
    const error = await retryOffered(page);
    assert.match(error, /_bg\.wasm stalled \(no data for 1\.5 s\)/, error);
    const count = (name) => site.requests.filter((u) => u.endsWith(`/www/model/${name}`)).length;
    for (const name of ['card.json', 'weights.bpk', 'test-latents.bin']) {
      assert.equal(count(name), 1, `${name} was fetched once, before the module arrived`);
    }
    delete overrides[wasm];
    await page.click('#retry');
    await ready(page);
    assert.equal(count('weights.bpk'), 2, 'the second load fetched the weights once more, and once');
    await stroke(page, ONE);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
});

test('a slow card: the model files are still fetched once each, whichever side asks first', async (t) => {
  // The module is running long before the card comes: the loading path and the head start both
  // wait on the card's download, and the weights must still be fetched once.
  const overrides = { 'www/model/card.json': delayed(1500) };
  await withPage(t, { overrides }, async (page, site) => {
    await ready(page);
    const count = (name) => site.requests.filter((u) => u.endsWith(`/www/model/${name}`)).length;
    for (const name of ['card.json', 'weights.bpk', 'test-latents.bin']) {
      assert.equal(count(name), 1, `${name} was fetched once`);
    }
  });
});

test('a card and weights that do not fit together (a deploy under the page) are refused, never half loaded', async (t) => {
  // The weights of another model under this model's card: what a visitor gets when a deploy
  // lands between the card's download and the weights'.
  const other = await fs.readFile(path.join(ROOT, 'www/model-mse/weights.bpk'));
  const overrides = { 'www/model/weights.bpk': other };
  await withPage(t, { overrides }, async (page) => {
    const error = await retryOffered(page);
    assert.match(error, /weights\.bpk has \d+ bytes, the model card says \d+|does not match the checksum/, error);
    assert.equal(await page.evaluate(() => window.latentCanvas), undefined, 'no model is in use');
    delete overrides['www/model/weights.bpk']; // the deploy is complete
    await page.click('#retry');
    await ready(page);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
});

test('a lost WebGPU device: the page says so and goes on on the CPU, the drawing encoded again', async (t) => {
  await withPage(t, { query: '?backend=webgpu' }, async (page) => {
    await ready(page);
    await page.waitForFunction(() => /Backend: WebGPU/.test(document.getElementById('status').textContent),
      null, { timeout: 180_000 });
    await stroke(page, ONE);
    await waitState(page, 's.encoded !== null && s.busy.length === 0', 120_000);
    const before = await state(page);
    await page.evaluate(() => window.latentCanvas.loseWebgpu());
    await page.waitForFunction(() => document.body.dataset.webgpu === 'lost', null, { timeout: 60_000 });
    const status = await page.textContent('#status');
    assert.match(status, /Backend: CPU/, status);
    assert.match(status, /WebGPU device was lost/, status);
    assert.match(await page.textContent('#notice'), /computed again on the CPU/);
    await waitState(page, `s.encodes > ${before.encodes} && s.busy.length === 0`);
    const after = await state(page);
    const moved = Math.hypot(after.encoded.mean[0] - before.encoded.mean[0], after.encoded.mean[1] - before.encoded.mean[1]);
    assert.ok(moved < 1e-3, `the CPU encodes the drawing where WebGPU did (moved ${moved})`);
    assert.equal(await page.isDisabled('#backend option[value="webgpu"]'), true, 'WebGPU is not offered again');
    // And the page keeps working.
    await page.click('#clear');
    await stroke(page, SEVEN);
    await waitState(page, `s.encodes > ${after.encodes} && s.busy.length === 0`);
  });
});
