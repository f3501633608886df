// Training in the page, measured: the Train panel's default run on the full MNIST the site
// serves, in headless Chromium (the CPU backend: Burn's burn-flex with autodiff in wasm). Prints
// one JSON object: images/s, the first epoch's seconds, the seconds from pressing Start to the
// first step, and the 5-NN accuracy of the test subset's latent means 60 s after Start (the
// model taken with "Use this model", its card measured on the 2,000 test images).
//   node tests/e2e/bench-train.js      (after scripts/build-web.sh; see scripts/bench-train.sh)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KNN_AFTER_S = Number(process.env.KNN_AFTER_S ?? 60);
const site = await serve(ROOT, '/', {});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-blink-features=WebGPU', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const dataset = (page) => page.evaluate(() => ({ ...document.getElementById('train-loss').dataset, state: document.body.dataset.train }));
try {
  const page = await browser.newPage();
  await page.goto(site.url + 'index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
  await page.click('#train-panel summary');
  await page.waitForFunction(() => document.body.dataset.train === 'ready', null, { timeout: 120_000 });
  const settings = await page.evaluate(() => ({
    hidden: document.getElementById('train-hidden').value, batch: document.getElementById('train-batch').value,
    lr: document.getElementById('train-lr').value, beta: document.getElementById('train-beta').value,
    epochs: document.getElementById('train-epochs').value,
  }));
  const t0 = Date.now();
  await page.click('#train-start');
  await page.waitForFunction(() => Number(document.getElementById('train-loss').dataset.stepsDone) > 0, null, { timeout: 120_000 });
  const firstStepS = (Date.now() - t0) / 1000;
  let epochS = null;
  let knn = null;
  let ips = [];
  for (;;) {
    const d = await dataset(page);
    if (d.imagesPerSecond) ips.push(Number(d.imagesPerSecond));
    if (epochS === null && Number(d.stepsDone) >= Number(d.stepsPerEpoch)) epochS = Number(d.epochSeconds);
    // At KNN_AFTER_S after Start, or at the run's end if it ends sooner.
    if (knn === null && (Date.now() - t0 >= KNN_AFTER_S * 1000 || d.state === 'finished')) {
      const afterS = (Date.now() - t0) / 1000;
      await page.click('#train-use');
      await page.waitForFunction(() => document.body.dataset.model === 'trained-here', null, { timeout: 60_000 });
      const card = await page.evaluate(() => window.latentCanvas.card);
      knn = { after_s: Number(afterS.toFixed(1)), knn5_acc: card.metrics.knn5_acc, steps: card.training.command.match(/(\d+) steps/)?.[1] };
    }
    if (epochS !== null && knn !== null) break;
    if (d.state === 'failed' || (d.state === 'finished' && knn !== null)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  ips = ips.slice(Math.floor(ips.length / 4)).sort((a, b) => a - b);
  console.log(JSON.stringify({
    settings,
    images_per_second_median: Math.round(ips[Math.floor(ips.length / 2)] ?? 0),
    first_epoch_s: epochS,
    start_to_first_step_s: firstStepS,
    knn5_at: knn,
  }));
} finally {
  await browser.close();
  await site.close();
}
