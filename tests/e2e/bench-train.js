// Training in the page, measured: the Train panel's default run on the full MNIST the site
// serves, in headless Chromium (the CPU backend: Burn's burn-flex with autodiff in wasm). Prints
// one JSON object: images/s, the first epoch's seconds, the seconds from pressing Start to the
// first step, and the 5-NN accuracy of the test subset's latent means 60 s after Start (the
// model taken with "Use this model", its card measured on the 2,000 test images).
//   node tests/e2e/bench-train.js      (after scripts/build-web.sh; see scripts/bench-train.sh)
// TRAIN_SETTINGS='{"hidden":"128,64","epochs":8,"lr":0.01}' runs other settings than the
// panel's defaults (the panel's own fields, set before Start).
// TRAIN_BACKEND=webgpu trains on WebGPU instead (Chromium started with WebGPU; headless, that is
// SwiftShader, a software adapter) and measures only images/s, over MEASURE_S seconds (60)
// after the first step.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KNN_AFTER_S = Number(process.env.KNN_AFTER_S ?? 60);
const BACKEND = process.env.TRAIN_BACKEND ?? 'cpu';
const MEASURE_S = Number(process.env.MEASURE_S ?? 60);
const site = await serve(ROOT, '/', {});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', BACKEND === 'cpu' ? '--disable-blink-features=WebGPU' : '--enable-unsafe-webgpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--disable-quic'],
});
const dataset = (page) => page.evaluate(() => ({ ...document.getElementById('train-loss').dataset, state: document.body.dataset.train }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The median of the last three quarters of a run's images/s readings. */
const medianRate = (ips) => {
  const steady = ips.slice(Math.floor(ips.length / 4)).sort((a, b) => a - b);
  return Math.round(steady[Math.floor(steady.length / 2)] ?? 0);
};

/** Images/s on WebGPU over MEASURE_S after the first step (an epoch on a software adapter
 *  takes many minutes; its first steps compile the shaders). */
async function measureRate(page) {
  const ips = [];
  const from = Date.now();
  while (Date.now() - from < MEASURE_S * 1000) {
    const d = await dataset(page);
    if (d.imagesPerSecond) ips.push(Number(d.imagesPerSecond));
    await sleep(250);
  }
  const d = await dataset(page);
  return {
    backend: await page.evaluate(() => document.body.dataset.trainBackend),
    state: d.state,
    steps: Number(d.stepsDone),
    status: await page.textContent('#train-status'),
    images_per_second_median: medianRate(ips),
  };
}

/** Images/s, the first epoch's seconds and the 5-NN accuracy KNN_AFTER_S after Start (or at
 *  the run's end if it ends sooner). */
async function measureRun(page, t0) {
  let epochS = null;
  let knn = null;
  const ips = [];
  for (;;) {
    const d = await dataset(page);
    if (d.imagesPerSecond) ips.push(Number(d.imagesPerSecond));
    if (epochS === null && Number(d.stepsDone) >= Number(d.stepsPerEpoch)) epochS = Number(d.epochSeconds);
    if (knn === null && (Date.now() - t0 >= KNN_AFTER_S * 1000 || d.state === 'finished')) {
      const afterS = (Date.now() - t0) / 1000;
      await page.click('#train-use');
      await page.waitForFunction(() => document.body.dataset.model === 'trained-here', null, { timeout: 60_000 });
      const card = await page.evaluate(() => window.latentCanvas.card);
      knn = { after_s: Number(afterS.toFixed(1)), knn5_acc: card.metrics.knn5_acc, steps: card.training.command.match(/(\d+) steps/)?.[1] };
    }
    if (epochS !== null && knn !== null) break;
    if (d.state === 'failed' || (d.state === 'finished' && knn !== null)) break;
    await sleep(250);
  }
  return { images_per_second_median: medianRate(ips), first_epoch_s: epochS, knn5_at: knn };
}

try {
  const page = await browser.newPage();
  await page.goto(site.url + 'index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
  await page.click('#train-panel summary');
  await page.waitForFunction(() => document.body.dataset.train === 'ready', null, { timeout: 120_000 });
  const overrides = JSON.parse(process.env.TRAIN_SETTINGS ?? '{}');
  await page.evaluate((o) => {
    for (const [key, value] of Object.entries(o)) {
      const field = document.getElementById(`train-${key}`);
      if (!field) throw new Error(`no setting ${key} in the Train panel`);
      if (field instanceof HTMLSelectElement && ![...field.options].some((opt) => opt.value === String(value))) {
        field.add(new Option(String(value), String(value)));
      }
      field.value = String(value);
    }
  }, { ...overrides, backend: BACKEND });
  const settings = await page.evaluate(() => ({
    hidden: document.getElementById('train-hidden').value, batch: document.getElementById('train-batch').value,
    lr: document.getElementById('train-lr').value, beta: document.getElementById('train-beta').value,
    epochs: document.getElementById('train-epochs').value,
  }));
  const t0 = Date.now();
  await page.click('#train-start');
  await page.waitForFunction(() => Number(document.getElementById('train-loss').dataset.stepsDone) > 0, null, { timeout: 120_000 });
  const firstStepS = (Date.now() - t0) / 1000;
  const figures = BACKEND === 'cpu' ? await measureRun(page, t0) : await measureRate(page);
  console.log(JSON.stringify({ settings, start_to_first_step_s: firstStepS, ...figures }));
} finally {
  await browser.close();
  await site.close();
}
