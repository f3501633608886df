// Training in the page: the Train panel trains a fresh VAE on a small subset of MNIST served
// by the site, the loss falls and the scatter changes, the page stays responsive, the model is
// used by the whole page and downloaded in a form `trainer eval` accepts; missing or corrupt
// data give a readable message and the page keeps its own model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, SEVEN, ready, stroke, waitState, withPage } from './harness.js';

const DATA = path.join(ROOT, 'www', 'data');
const TRAIN_N = 2000;
const TEST_N = 2000;

/** The first `n` items of an IDX file (gzipped), gzipped again. */
function firstItems(name, n) {
  const bytes = zlib.gunzipSync(fs.readFileSync(path.join(DATA, name)));
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  const item = dims === 3 ? 28 * 28 : 1;
  const out = Buffer.from(bytes.subarray(0, header + n * item));
  out.writeUInt32BE(n, 4);
  return zlib.gzipSync(out);
}

/** A small MNIST for the site: files (by name) and the manifest the page checks. */
function smallData() {
  if (!fs.existsSync(path.join(DATA, 'mnist.json'))) {
    throw new Error(`${DATA} is missing: scripts/build-web.sh puts MNIST there (scripts/build-data.sh)`);
  }
  const files = {
    'train-images-idx3-ubyte.gz': firstItems('train-images-idx3-ubyte.gz', TRAIN_N),
    'train-labels-idx1-ubyte.gz': firstItems('train-labels-idx1-ubyte.gz', TRAIN_N),
    't10k-images-idx3-ubyte.gz': firstItems('t10k-images-idx3-ubyte.gz', TEST_N),
    't10k-labels-idx1-ubyte.gz': firstItems('t10k-labels-idx1-ubyte.gz', TEST_N),
  };
  const manifest = {
    files: Object.entries(files).map(([name, b]) => ({
      name, bytes: b.length, sha256: crypto.createHash('sha256').update(b).digest('hex'),
    })),
  };
  return { files, manifest };
}

function overridesFor({ files, manifest }) {
  const o = { 'www/data/mnist.json': Buffer.from(JSON.stringify(manifest)) };
  for (const [name, b] of Object.entries(files)) o[`www/data/${name}`] = b;
  return o;
}

/** Records main-thread tasks over 50 ms (the Long Tasks API) from page load on. */
const LONG_TASKS = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
};

async function openPanel(page) {
  await page.click('#train-panel summary');
  await page.waitForFunction(() => ['ready', 'failed'].includes(document.body.dataset.train), null, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.train), 'ready', await page.textContent('#train-status'));
}

test('a VAE trained in the page: the loss falls, the scatter moves, the page uses it and trainer eval reads the download', async (t) => {
  const data = smallData();
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'trained-'));
  await withPage(t, { overrides: overridesFor(data), init: LONG_TASKS, webgpu: false }, async (page, site) => {
    await ready(page);
    const before = site.requests.length;
    await openPanel(page);
    // Opening the panel fetches the training module, not the data.
    assert.ok(site.requests.slice(before).some((r) => /vae_web_train-/.test(r)), 'the training module is fetched');
    assert.ok(!site.requests.some((r) => /www\/data\//.test(r)), 'no data before Start');
    await page.fill('#train-epochs', '10');
    await page.selectOption('#train-batch', '64');
    const since = await page.evaluate(() => performance.now());
    await page.click('#train-start');
    await page.waitForFunction(() => document.body.dataset.train === 'running'
      && document.getElementById('train-scatter').dataset.step === '0', null, { timeout: 60_000 });
    const first = await page.locator('#train-scatter').screenshot();
    await page.waitForFunction(() => Number(document.getElementById('train-scatter').dataset.step) >= 100, null, { timeout: 240_000 });
    const later = await page.locator('#train-scatter').screenshot();
    assert.ok(!first.equals(later), 'the scatter changes as the model trains');
    await page.waitForFunction(() => document.body.dataset.train === 'finished', null, { timeout: 300_000 });
    const loss = await page.evaluate(() => ({ ...document.getElementById('train-loss').dataset }));
    assert.ok(Number(loss.lastRecon) < 0.8 * Number(loss.firstRecon), `the reconstruction term falls: ${JSON.stringify(loss)}`);
    const tasks = await page.evaluate(() => window.__longTasks);
    const long = tasks.filter((task) => task.start >= since);
    assert.deepEqual(long, [], `no main-thread task over 50 ms while training (from ${since.toFixed(0)} ms; all: ${JSON.stringify(tasks)})`);

    // Use it: the whole page switches, a drawing is encoded by it.
    await page.click('#train-use');
    await page.waitForFunction(() => document.body.dataset.model === 'trained-here', null, { timeout: 60_000 });
    const card = await page.evaluate(() => window.latentCanvas.card);
    assert.deepEqual(card.architecture.hidden, [128, 64]);
    assert.equal(card.training.epochs, 10);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');

    // Download it: card.json and weights.bpk, which trainer eval reads.
    const saved = [];
    page.on('download', (d) => saved.push(d.saveAs(path.join(downloads, d.suggestedFilename()))));
    await page.click('#train-download');
    for (let i = 0; i < 100 && saved.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(saved);
    assert.deepEqual(fs.readdirSync(downloads).sort(), ['card.json', 'weights.bpk']);

    // Open the download again (the page went back to its model first); a corrupt weights file
    // is refused with a message and the page keeps the model it has.
    await page.selectOption('#model', 'bce');
    await page.waitForFunction(() => document.body.dataset.model === 'bce', null, { timeout: 60_000 });
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bad-')), 'weights.bpk');
    const bytes = fs.readFileSync(path.join(downloads, 'weights.bpk'));
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(bad, bytes);
    await page.setInputFiles('#train-open', [path.join(downloads, 'card.json'), bad]);
    await page.waitForFunction(() => /could not be opened/.test(document.getElementById('error').textContent), null, { timeout: 60_000 });
    assert.match(await page.textContent('#error'), /checksum/);
    assert.equal(await page.evaluate(() => document.body.dataset.model), 'bce');
    await page.setInputFiles('#train-open', [path.join(downloads, 'card.json'), path.join(downloads, 'weights.bpk')]);
    await page.waitForFunction(() => document.body.dataset.model === 'opened', null, { timeout: 60_000 });
    assert.deepEqual((await page.evaluate(() => window.latentCanvas.card)).architecture.hidden, [128, 64]);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'small-mnist-'));
  for (const [name, b] of Object.entries(data.files)) fs.writeFileSync(path.join(dataDir, name), b);
  const trainer = path.join(ROOT, 'target', 'debug', 'trainer');
  assert.ok(fs.existsSync(trainer), `${trainer} is built by cargo test (scripts/test.sh runs it first)`);
  const out = execFileSync(trainer, ['eval', '--data', dataDir, '--model', downloads, '--iw-samples', '2'], { encoding: 'utf8' });
  const metrics = JSON.parse(out.trim().split('\n').at(-1));
  assert.ok(metrics.neg_elbo > 50 && metrics.neg_elbo < 400, `trainer eval: ${out}`);
  fs.rmSync(downloads, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('missing or corrupt training data: a readable message in the panel, the page keeps its model', async (t) => {
  const data = smallData();
  const corrupt = overridesFor(data);
  const images = Buffer.from(corrupt['www/data/train-images-idx3-ubyte.gz']);
  images[images.length - 100] ^= 0xff;
  corrupt['www/data/train-images-idx3-ubyte.gz'] = images;
  for (const [overrides, says] of [
    [{ 'www/data/mnist.json': null }, /training data are not on this site/],
    [corrupt, /does not match its size and SHA-256/],
  ]) {
    await withPage(t, { overrides, webgpu: false }, async (page) => {
      await ready(page);
      await openPanel(page);
      await page.click('#train-start');
      await page.waitForFunction(() => document.body.dataset.train === 'failed', null, { timeout: 60_000 });
      assert.match(await page.textContent('#train-status'), says);
      assert.equal(await page.isEnabled('#train-reset'), true, 'Reset is offered');
      await stroke(page, SEVEN);
      await waitState(page, 's.encoded !== null && s.busy.length === 0');
    });
  }
});

test('training on WebGPU (SwiftShader here): auto keeps the CPU on a software adapter, measuring times both, and a run on WebGPU gives a model the page uses', async (t) => {
  const data = smallData();
  await withPage(t, { overrides: overridesFor(data) }, async (page) => {
    await ready(page);
    await openPanel(page);
    await page.selectOption('#train-batch', '64');
    const startOn = async (backend) => {
      await page.evaluate((value) => {
        // 'measure' (both measured on any adapter) is the worker's, not offered in the menu.
        const menu = document.getElementById('train-backend');
        if (![...menu.options].some((o) => o.value === value)) menu.add(new Option(value, value));
        menu.value = value;
      }, backend);
      await page.click('#train-start');
      await page.waitForFunction(() => ['running', 'finished', 'failed'].includes(document.body.dataset.train), null, { timeout: 120_000 });
      return page.evaluate(() => ({
        state: document.body.dataset.train, on: document.body.dataset.trainBackend,
        status: document.getElementById('train-status').textContent,
      }));
    };
    const reset = async () => {
      await page.click('#train-reset');
      await page.waitForFunction(() => document.body.dataset.train === 'ready', null, { timeout: 120_000 });
    };

    let run = await startOn('auto');
    assert.equal(run.on, 'cpu', JSON.stringify(run));
    assert.match(run.status, /software adapter/, run.status);
    await reset();
    run = await startOn('measure');
    assert.equal(run.state, 'running', JSON.stringify(run));
    assert.match(run.status, /measured faster: [\d.]+ ms a step on WebGPU \(.*\), [\d.]+ ms on the CPU/, run.status);
    // The run kept is the one the status calls faster.
    assert.equal(run.on, /^Training on WebGPU, measured faster/.test(run.status) ? 'webgpu' : 'cpu', JSON.stringify(run));
    await reset();

    await page.fill('#train-epochs', '2');
    await page.selectOption('#train-hidden', '128');
    run = await startOn('webgpu');
    assert.equal(run.on, 'webgpu', JSON.stringify(run));
    assert.match(run.status, /WebGPU \(.*\), as chosen/, run.status);
    await page.waitForFunction(() => document.body.dataset.train === 'finished', null, { timeout: 400_000 });
    const loss = await page.evaluate(() => ({ ...document.getElementById('train-loss').dataset }));
    assert.ok(Number(loss.lastRecon) < 0.8 * Number(loss.firstRecon), `the reconstruction term falls on WebGPU: ${JSON.stringify(loss)}`);
    assert.match(await page.textContent('#train-figures'), /images\/s on WebGPU/);
    await page.click('#train-use');
    await page.waitForFunction(() => document.body.dataset.model === 'trained-here', null, { timeout: 60_000 });
    const card = await page.evaluate(() => window.latentCanvas.card);
    assert.match(card.training.backend, /^wgpu \(WebGPU/, card.training.backend);
    assert.deepEqual(card.architecture.hidden, [128]);
    assert.ok(card.metrics.neg_elbo > 50 && card.metrics.neg_elbo < 400, JSON.stringify(card.metrics));
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
  });
});
