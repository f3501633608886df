// What the page teaches, done as a person would: the region of a drawing and its samples,
// the walk from a pinned A to B, samples of the prior, the plane by keyboard alone; and that
// the page never stutters (long tasks) and survives its model worker dying.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ONE, SEVEN, backendSettled, maxDiff, pixels, planeAt, ready, state, stroke, waitState, withPage,
} from './harness.js';

/** Read-back tolerance between one image decoded alone and in a batch (CPU kernels). */
const READ_BACK = 1e-4;

test('the region: samples of q(z|x) lie around μ, decoded in a strip, with the nearest digits', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    assert.match(await page.textContent('#nearest'), /^Nearest 20 test digits to μ: \d ×\d+/);
    const counts = (await state(page)).encoded.nearest;
    assert.equal(counts.reduce((a, b) => a + b, 0), 20);
    await page.click('#sample-region');
    await waitState(page, 's.region !== null');
    const { region, encoded } = await state(page);
    assert.equal(region.points.length, 16);
    for (let i = 0; i < 16; i += 2) {
      const d = [0, 1].map((k) => Math.abs(region.points[i + k] - encoded.mean[k]) / encoded.std[k]);
      assert.ok(d[0] < 5 && d[1] < 5, `sample ${i / 2} within 5σ of μ (${d.map((v) => v.toFixed(2))})`);
    }
    const strip = await pixels(page, 'region-strip');
    assert.equal(strip.length, 8 * 28 * 28, 'eight decodes side by side');
    assert.ok(strip.filter((v) => v > 0.5).length > 8 * 40, 'the strip shows digits');
    assert.match(await page.textContent('#region-text'), /differ from the reconstruction by \d+\.\d\d %/);
    // The inset magnifies: its window is a few σ wide, not the plane's.
    const inset = await pixels(page, 'inset');
    assert.ok(inset.some((v) => v < 0.2), 'the inset draws the ellipses');
  });
});

test('interpolation: the strip walks from A to B, first and last frames are their reconstructions', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    const a = (await state(page)).encoded;
    await page.click('#pin');
    await page.click('#clear');
    await stroke(page, ONE);
    await waitState(page, 's.walk !== null && s.encodes >= 2 && s.busy.length === 0');
    const { walk, encoded: b } = await state(page);
    assert.deepEqual(walk.a, a.mean);
    assert.equal(walk.images.length, 10 * 784);
    const first = walk.images.slice(0, 784);
    const last = walk.images.slice(9 * 784);
    assert.ok(maxDiff(first, a.reconstruction) <= READ_BACK, `frame 1 = A's reconstruction (${maxDiff(first, a.reconstruction)})`);
    assert.ok(maxDiff(last, b.reconstruction) <= READ_BACK, `frame 10 = B's reconstruction (${maxDiff(last, b.reconstruction)})`);
    assert.ok(maxDiff(first, last) > 0.3, 'A and B differ');
    // From the pinned drawing to a clicked point.
    const z = [-1.5, 1.5];
    await page.mouse.click(...(await planeAt(page, z)));
    await waitState(page, 's.walk !== null && Math.abs(s.walk.b[0] + 1.5) < 0.05 && s.decoded !== null');
    const clicked = await state(page);
    const end = clicked.walk.images.slice(9 * 784);
    assert.ok(maxDiff(end, clicked.decoded) <= READ_BACK, 'the walk ends at the clicked point\'s decode');
    // Play animates the decoded view along the path, ending at B.
    await page.click('#play');
    await page.waitForFunction(() => /^frame 10 of 10/.test(document.getElementById('z').textContent), null, { timeout: 10_000 });
    assert.match(await page.textContent('#interp-text'), /From A .* to B .*10 evenly spaced codes/);
  });
});

test('sampling the prior: N marks spread like N(0, I), their decodes, and a readout by radius', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await page.fill('#prior-n', '0');
    await page.click('#sample-prior');
    assert.match(await page.textContent('#prior-text'), /N must be a whole number from 1 to 100/);
    await page.fill('#prior-n', '100');
    await page.click('#sample-prior');
    await waitState(page, 's.prior !== null');
    const { prior } = await state(page);
    assert.equal(prior.points.length, 200);
    assert.equal(prior.rings.reduce((a, b) => a + b, 0), 100);
    let r2 = 0;
    for (let i = 0; i < 200; i += 2) r2 += prior.points[i] ** 2 + prior.points[i + 1] ** 2;
    // E[r²] = 2 for N(0, I) in 2-D; the mean of 100 has a standard deviation of 0.2.
    assert.ok(Math.abs(r2 / 100 - 2) < 0.8, `mean squared radius ${(r2 / 100).toFixed(2)}`);
    assert.ok(prior.rings[0] > 20 && prior.rings[0] < 60, `within 1σ: ${prior.rings[0]}`);
    const grid = await pixels(page, 'prior-grid');
    assert.equal(grid.length, 100 * 784, 'a 10 × 10 grid of decodes');
    assert.match(await page.textContent('#prior-text'), /^100 samples z ~ N\(0, I\): \d+ within 1σ/);
    // A second draw gives other points.
    await page.click('#sample-prior');
    await waitState(page, `s.prior.points[0] !== ${prior.points[0]}`);
  });
});

test('the plane by keyboard: arrows move the point, Shift steps further, Enter pins, Escape clears', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await page.focus('#plane');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await waitState(page, 's.decoded !== null && s.pick && Math.abs(s.pick[0] - 0.2) < 1e-6');
    await page.keyboard.press('Shift+ArrowUp');
    await waitState(page, 'Math.abs(s.pick[1] - 0.5) < 1e-6');
    await page.waitForFunction(() => /z = \(0\.20, 0\.50\), near the \ds/.test(document.getElementById('z').textContent));
    assert.equal(await page.getAttribute('#z', 'aria-live'), 'polite');
    await page.keyboard.press('Enter');
    await waitState(page, 's.pin !== null && Math.abs(s.pin[0] - 0.2) < 1e-6');
    await page.keyboard.press('ArrowDown');
    await waitState(page, 's.walk !== null');
    await page.keyboard.press('Escape');
    await waitState(page, 's.pin === null && s.pick === null && s.walk === null');
  });
});

test('a killed model worker is restarted once with a message; a second death is shown', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    const before = (await state(page)).encodes;
    await page.evaluate(() => window.latentCanvas.crashWorker());
    await page.waitForFunction(() => document.body.dataset.worker === 'restarted', null, { timeout: 60_000 });
    assert.match(await page.textContent('#error'), /stopped and was restarted/);
    await waitState(page, `s.encodes > ${before}`); // the drawing is encoded again
    await page.mouse.click(...(await planeAt(page, [0.5, 0.5])));
    await waitState(page, 's.decoded !== null');
    await page.evaluate(() => window.latentCanvas.crashWorker());
    await page.waitForFunction(() => document.body.dataset.worker === 'dead', null, { timeout: 60_000 });
    assert.match(await page.textContent('#error'), /stopped again .*Reload the page/);
    assert.equal(await page.isVisible('#error'), true);
  });
});

/** Installed before the page loads: records every main-thread task over 50 ms. */
function observeLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

test('no main-thread task over 50 ms while drawing, dragging, toggling, sampling, interpolating', async (t) => {
  await withPage(t, { init: observeLongTasks }, async (page) => {
    await ready(page);
    await backendSettled(page);
    const longest = {};
    const measure = async (body) => {
      const t0 = await page.evaluate(() => performance.now());
      await body();
      await page.waitForTimeout(500);
      const tasks = await page.evaluate((from) => window.__longTasks.filter((x) => x.start >= from), t0);
      return Math.max(0, ...tasks.map((x) => x.duration));
    };
    // A scenario over the bound runs once more and keeps the better run: on a busy 2-core
    // machine one task can be descheduled; work that is too long on the main thread fails both.
    const scenario = async (name, body) => {
      const first = await measure(body);
      longest[name] = first <= 50 ? first : Math.min(first, await measure(body));
      if (first > 50) console.log(`${name}: ${first.toFixed(0)} ms on the first run, ${longest[name].toFixed(0)} ms on the second`);
    };
    await scenario('drawing', async () => {
      await stroke(page, SEVEN);
      await stroke(page, [[0.3, 0.5], [0.7, 0.5]]);
      await waitState(page, 's.encoded !== null');
    });
    await scenario('dragging', async () => {
      const [x, y] = await planeAt(page, [-2, -2]);
      const [x2, y2] = await planeAt(page, [2, 2]);
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x2, y2, { steps: 40 });
      await page.mouse.up();
      await waitState(page, 's.decoded !== null');
    });
    await scenario('grid', async () => {
      await page.check('#manifold');
      await waitState(page, 's.manifold');
      await page.uncheck('#manifold');
      await page.check('#manifold');
    });
    await scenario('sampling', async () => {
      await page.fill('#prior-n', '100');
      await page.click('#sample-prior');
      await waitState(page, 's.prior !== null');
      await page.click('#sample-region');
      await waitState(page, 's.region !== null');
    });
    await scenario('interpolating', async () => {
      await page.click('#pin');
      await page.mouse.click(...(await planeAt(page, [1, -1])));
      await waitState(page, 's.walk !== null');
      await page.click('#play');
      await page.waitForFunction(() => /^frame 10 of 10/.test(document.getElementById('z').textContent));
    });
    console.log(`longest main-thread task per scenario (0 = none over 50 ms): ${JSON.stringify(longest)}`);
    for (const [name, ms] of Object.entries(longest)) {
      assert.ok(ms <= 50, `${name}: a ${ms.toFixed(0)} ms main-thread task`);
    }
  });
});
