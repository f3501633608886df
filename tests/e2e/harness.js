// Shared helpers of the end-to-end tests: a browser per test file, the page served under a
// sub-path, pointer strokes as a person draws them, and reading the page's canvases.

import { after } from 'node:test';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.js';

export { ONE, SEVEN, stroke } from './gestures.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
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
    // Without WebGPU: the Blink feature off, so neither the page nor its worker has navigator.gpu.
    args: webgpu ? [...BASE_ARGS, '--enable-unsafe-webgpu'] : [...BASE_ARGS, '--disable-blink-features=WebGPU'],
  });
  browsers.push(browser);
  return browser;
}
after(async () => {
  for (const b of browsers) await b.close();
});

/** Opens the page; on failure of `body`, saves a screenshot named after the test. */
export async function withPage(t, { webgpu = true, overrides = {}, init = null, query = '', viewport = null, bypassCSP = false }, body) {
  const site = await serve(ROOT, '/sub/path/', overrides);
  const browser = await launch({ webgpu });
  const page = await browser.newPage({ viewport: viewport ?? { width: 1280, height: 900 }, bypassCSP });
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

/** Waits until the page is ready to draw; throws with the page's error if it failed. */
export async function ready(page, timeout = 120_000) {
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout });
  const state = await page.evaluate(() => document.body.dataset.ready);
  if (state !== 'true') {
    const msg = await page.textContent('#error');
    throw new Error(`page did not become ready: ${msg}`);
  }
}

/** Waits until the page has settled on a backend (after WebGPU start-up and calibration). */
export async function backendSettled(page, timeout = 180_000) {
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout });
}

/** The page's state snapshot (its documented test surface). */
export function state(page) {
  return page.evaluate(() => window.latentCanvas.state());
}

/** Waits until `predicate` (JS over the page's state snapshot `s`) holds. The check is built
 *  here as a function, since the page's CSP forbids evaluating strings. */
export async function waitState(page, predicate, timeout = 60_000) {
  // eslint-disable-next-line no-new-func
  const check = new Function(`const s = window.latentCanvas?.state(); return !!s && (${predicate});`);
  await page.waitForFunction(check, null, { timeout });
}

/** Pointer position on the page of latent point `z`. */
export async function planeAt(page, z) {
  await page.locator('#plane').scrollIntoViewIfNeeded();
  const box = await page.locator('#plane').boundingBox();
  const e = await page.evaluate(() => window.latentCanvas.card.plane);
  return [
    box.x + ((z[0] - e.x_min) / (e.x_max - e.x_min)) * box.width,
    box.y + ((e.y_max - z[1]) / (e.y_max - e.y_min)) * box.height,
  ];
}

/** The grey values of a canvas, in [0, 1]. */
export async function pixels(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return Array.from({ length: d.length / 4 }, (_, i) => d[4 * i] / 255);
  }, id);
}

export function correlation(a, b) {
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

/** Largest absolute difference of two arrays. */
export function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}
