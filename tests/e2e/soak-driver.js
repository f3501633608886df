// The soak: a long, seeded run of what people do on the page (draw, clear, click, drag on the
// plane, toggle the grid, switch backend, switch model), with the page's memory measured at the
// start and at every checkpoint: the JS heap after a forced garbage collection, the worker's
// wasm memory, and the resident memory of the browser's renderer processes.
// Used by scripts/soak.sh (10,000 steps, printed) and soak.test.js (1,000, fails on growth).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ONE, SEVEN, stroke } from './gestures.js';
import { serve } from './server.js';

const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'];

/** Resident memory (bytes) of the renderer processes of the browser whose profile is `dir`
 *  (each carries the profile's flag). */
function rendererRss(dir) {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      // Chromium rewrites its processes' titles: one string, arguments split by spaces.
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').split(' ');
      if (!cmd.includes('--type=renderer') || !cmd.includes(`--user-data-dir=${dir}`)) continue;
      total += Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch { /* the process ended */ }
  }
  return total;
}

class Rng {
  constructor(seed) { this.s = seed >>> 0 || 1; }
  next() {
    this.s ^= this.s << 13; this.s >>>= 0;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5; this.s >>>= 0;
    return this.s / 2 ** 32;
  }
  pick(xs) { return xs[Math.floor(this.next() * xs.length)]; }
}

async function idle(page) {
  await page.waitForFunction(() => {
    const s = window.latentCanvas?.state();
    return s && s.busy.length === 0 && document.body.dataset.model !== 'loading'
      && !document.getElementById('backend').disabled;
  }, null, { timeout: 120_000, polling: 20 });
}

/**
 * Runs `steps` interactions on the page at `root` (a built checkout), measuring every `every`
 * steps. Returns `{blank, samples: [{step, heap, wasm, rss}], counts}`; `log` gets a line per sample.
 */
export async function soak({ root, steps, every, seed = 1, log = () => {} }) {
  const site = await serve(root, '/soak/');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto('about:blank');
    await new Promise((r) => setTimeout(r, 1000));
    const blank = rendererRss(profile);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 120_000 });
    const cdp = await context.newCDPSession(page);
    const models = await page.$$eval('#model option', (os) => os.map((o) => o.value));
    const rng = new Rng(seed);
    const counts = {};
    const samples = [];
    const firstModel = await page.$eval('#model', (m) => m.value);
    const measure = async (step) => {
      // Like with like: a fresh worker for the first model (via another model: WebGPU's module
      // goes with the old worker), after the same warm-up (the grid shown and hidden, a
      // drawing), so that wasm memory is at its working size whatever came just before. What
      // the page holds itself (JS heap, canvases) and what dead workers leave behind (the
      // renderer's memory) carry over.
      await idle(page);
      for (const m of [models.find((id) => id !== firstModel), firstModel]) {
        if (!m) continue;
        await page.selectOption('#model', m);
        await idle(page);
      }
      for (let i = 0; i < 2; i++) {
        await page.click('#manifold');
        await idle(page);
      }
      await stroke(page, SEVEN);
      await idle(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      const wasm = await page.evaluate(() => window.latentCanvas.wasmMemory());
      // The CPU module's memory (a model switch starts a fresh worker; WebGPU's module is
      // loaded only while it is picked, so it is shown, not compared).
      const sample = { step, heap: usedSize, wasm: wasm.cpu, gpuWasm: wasm.webgpu, rss: rendererRss(profile) };
      samples.push(sample);
      const mb = (b) => (b / 2 ** 20).toFixed(1).padStart(7);
      log(`step ${String(step).padStart(6)}  JS heap ${mb(sample.heap)} MiB  wasm ${mb(sample.wasm)} MiB ` +
        `(WebGPU module ${sample.gpuWasm === null ? '   none' : mb(sample.gpuWasm)} MiB)  renderer RSS ${mb(sample.rss)} MiB`);
    };
    const plane = await page.locator('#plane').boundingBox();
    const inPlane = () => [plane.x + plane.width * (0.05 + 0.9 * rng.next()), plane.y + plane.height * (0.05 + 0.9 * rng.next())];
    const actions = {
      async draw() {
        await stroke(page, rng.pick([ONE, SEVEN, [[0.2 + 0.3 * rng.next(), 0.2], [0.7, 0.3 + 0.5 * rng.next()], [0.3, 0.8]]]));
      },
      async clear() { await page.click('#clear'); },
      async click() { await page.mouse.click(...inPlane()); },
      async drag() {
        await page.mouse.move(...inPlane());
        await page.mouse.down();
        for (let i = 0; i < 4; i++) await page.mouse.move(...inPlane(), { steps: 2 });
        await page.mouse.up();
      },
      async grid() { await page.click('#manifold'); },
      async backend() {
        // WebGPU here is SwiftShader (slow): one click there, then back to the CPU. (After a
        // model switch, the new worker offers WebGPU once it has looked at the adapter.)
        await page.waitForSelector('#backend option[value="webgpu"]:not([disabled])', { state: 'attached' });
        await page.selectOption('#backend', 'webgpu');
        await idle(page);
        await page.mouse.click(...inPlane());
        await idle(page);
        await page.selectOption('#backend', 'cpu');
      },
      async model() {
        if (models.length > 1) await page.selectOption('#model', rng.pick(models));
      },
    };
    // Weights: what a person mostly does is draw and look around the plane.
    const deck = [...Array(30).fill('draw'), ...Array(10).fill('clear'), ...Array(30).fill('click'),
      ...Array(20).fill('drag'), ...Array(6).fill('grid'), 'backend', ...Array(3).fill('model')];
    await measure(0);
    for (let step = 1; step <= steps; step++) {
      const name = rng.pick(deck);
      counts[name] = (counts[name] ?? 0) + 1;
      await actions[name]();
      await idle(page);
      if (step % every === 0) await measure(step);
    }
    if (errors.length) throw new Error(`page errors during the soak: ${errors.join('; ')}`);
    return { blank, samples, counts };
  } finally {
    await context.close();
    await site.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Growth of each measure from the sample at `from` to the last, as fractions. */
export function growth(samples, from) {
  const start = samples.find((s) => s.step >= from) ?? samples[0];
  const end = samples.at(-1);
  return Object.fromEntries(['heap', 'wasm', 'rss'].map((k) => [k, end[k] / start[k] - 1]));
}
