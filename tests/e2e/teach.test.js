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

/** The plane's pixels, for telling two scatters apart. */
async function planeSignature(page) {
  return page.evaluate(() => {
    const c = document.getElementById('plane');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4 * 97) out.push(d[i], d[i + 1], d[i + 2]);
    return out;
  });
}

test('switching models re-encodes the drawing and A under the new model, fetching only its files', async (t) => {
  await withPage(t, {}, async (page, site) => {
    await ready(page);
    const fetched = (dir) => site.requests.filter((u) => u.includes(`/www/${dir}/`));
    assert.ok(fetched('model').length >= 3, 'the default model is fetched');
    assert.deepEqual([...fetched('model-mse'), ...fetched('model-kl-off')], [], 'no other model is fetched at start');
    assert.equal(await page.$$eval('#model option', (o) => o.length), 3);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    await page.click('#pin');
    await page.mouse.click(...(await planeAt(page, [0.5, 0.5])));
    await waitState(page, 's.decoded !== null && s.walk !== null && s.busy.length === 0');
    const before = await state(page);
    const card = await page.textContent('#card');
    const scatter = await planeSignature(page);

    await page.selectOption('#model', 'kl-off');
    await page.waitForFunction(() => document.body.dataset.model === 'kl-off', null, { timeout: 60_000 });
    await waitState(page, `s.model === 'kl-off' && s.busy.length === 0 && s.encoded.mean[0] !== ${before.encoded.mean[0]}`);
    const after = await state(page);
    assert.ok(fetched('model-kl-off').some((u) => u.endsWith('card.json')), 'the new model\'s files are fetched');
    assert.deepEqual(fetched('model-mse'), [], 'only the selected model is fetched');
    assert.notEqual(await page.textContent('#card'), card, 'the model line changes');
    assert.ok(maxDiff(await planeSignature(page), scatter) > 0, 'the scatter changes');
    assert.deepEqual(after.encoded.input, before.encoded.input, 'the same drawing');
    assert.notDeepEqual(after.encoded.mean, before.encoded.mean, 'encoded again by the new model');
    assert.deepEqual(after.pin, after.walk.a, 'the walk starts at A');
    assert.notDeepEqual(after.pin, before.pin, 'A (a drawing) is encoded again too');
    assert.deepEqual(after.pick, before.pick, 'the picked point stays');
    assert.ok(maxDiff(after.decoded, before.decoded) > 0.05, 'and is decoded by the new model');
    assert.match(await page.textContent('#model-about'), /autoencoder/);

    await page.selectOption('#model', 'bce');
    await waitState(page, `s.model === 'bce' && s.busy.length === 0 && s.encoded.mean[0] === ${before.encoded.mean[0]}`);
    const back = await state(page);
    assert.deepEqual(back.encoded.mean, before.encoded.mean, 'the same model gives the same code again');
    assert.deepEqual(back.pin, before.pin);
  });
});

test('a model that fails to load is refused with a message and the page keeps the previous one', async (t) => {
  const overrides = { 'www/model-mse/weights.bpk': Buffer.from('a half-deployed file') };
  await withPage(t, { overrides }, async (page) => {
    await ready(page);
    await stroke(page, ONE);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    const before = await state(page);
    await page.selectOption('#model', 'mse');
    await page.waitForFunction(() => document.body.dataset.model === 'bce', null, { timeout: 60_000 });
    assert.match(await page.textContent('#error'), /could not be loaded .*weights\.bpk.*went back to the previous model/);
    assert.equal(await page.inputValue('#model'), 'bce');
    await waitState(page, 's.busy.length === 0 && s.encoded !== null');
    assert.deepEqual((await state(page)).encoded.mean, before.encoded.mean, 'nothing is lost');
  });
});

/** Installed before the page loads: records every main-thread task over 50 ms. */
function observeLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

test('no main-thread task over 50 ms while drawing, dragging, toggling, sampling, interpolating, switching models', async (t) => {
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
    // A scenario over the bound runs again (up to three runs) and keeps its best: on a busy
    // 2-core machine a task can be descheduled mid-way; work that is too long for the main
    // thread fails every run.
    const scenario = async (name, body) => {
      const runs = [await measure(body)];
      while (runs.at(-1) > 50 && runs.length < 3) runs.push(await measure(body));
      longest[name] = Math.min(...runs);
      if (runs.length > 1) console.log(`${name}: runs of ${runs.map((r) => r.toFixed(0)).join(', ')} ms`);
    };
    await scenario('drawing', async () => {
      await stroke(page, SEVEN);
      await stroke(page, [[0.3, 0.5], [0.7, 0.5]]);
      await waitState(page, 's.encoded !== null && s.busy.length === 0');
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
    await scenario('switching models', async () => {
      const next = (await page.inputValue('#model')) === 'bce' ? 'mse' : 'bce';
      await page.selectOption('#model', next);
      await page.waitForFunction((m) => document.body.dataset.model === m, next, { timeout: 60_000 });
      await waitState(page, 's.busy.length === 0');
    });
    console.log(`longest main-thread task per scenario (0 = none over 50 ms): ${JSON.stringify(longest)}`);
    for (const [name, ms] of Object.entries(longest)) {
      assert.ok(ms <= 50, `${name}: a ${ms.toFixed(0)} ms main-thread task`);
    }
  });
});

test('a link restores the view: model, picked z, pin, grid and backend; the URL follows the view', async (t) => {
  const query = '#model=kl-off&z=0.50,-0.30&pin=1.00,0.40&grid=1&backend=cpu';
  await withPage(t, { query }, async (page) => {
    await ready(page);
    await waitState(page, 's.decoded !== null && s.manifold && s.busy.length === 0');
    const s = await state(page);
    assert.equal(s.model, 'kl-off');
    assert.deepEqual(s.pick, [0.5, -0.3]);
    assert.deepEqual(s.pin, [1, 0.4]);
    assert.equal(await page.isChecked('#manifold'), true);
    assert.equal(await page.inputValue('#model'), 'kl-off');
    await backendSettled(page);
    assert.match(await page.textContent('#status'), /Backend: CPU .*the CPU was requested/);
    assert.equal(await page.isVisible('#notice'), false);
    await page.mouse.click(...(await planeAt(page, [-1, 1])));
    await page.waitForFunction(() => /z=-1\.\d\d,1\.\d\d/.test(location.hash));
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, /^#model=kl-off&z=-1\.\d\d,1\.\d\d&pin=1\.00,0\.40&grid=1&backend=cpu$/);
  });
});

test('a bad link is named in a notice and the page opens with what it understood', async (t) => {
  await withPage(t, { query: '#model=nope&z=abc&grid=1' }, async (page) => {
    await ready(page);
    await waitState(page, 's.manifold && s.busy.length === 0');
    const notice = await page.textContent('#notice');
    assert.match(notice, /z “abc”|model “nope”/);
    assert.equal((await state(page)).model, 'bce');
    assert.equal((await state(page)).pick, null);
  });
});

test('the plane and the strip save as PNG files', async (t) => {
  await withPage(t, {}, async (page) => {
    await ready(page);
    const [plane] = await Promise.all([page.waitForEvent('download'), page.click('#save-plane')]);
    assert.equal(plane.suggestedFilename(), 'latent-plane-bce.png');
    const stream = await plane.createReadStream();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const png = Buffer.concat(chunks);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    assert.ok(png.length > 10_000, `a real picture (${png.length} bytes)`);
    assert.equal(await page.isDisabled('#save-strip'), true, 'no strip yet');
    await page.mouse.click(...(await planeAt(page, [0.2, 0.2])));
    await page.keyboard.press('Enter');
    await page.mouse.click(...(await planeAt(page, [-1.5, -1])));
    await waitState(page, 's.walk !== null');
    const [strip] = await Promise.all([page.waitForEvent('download'), page.click('#save-strip')]);
    assert.equal(strip.suggestedFilename(), 'interpolation.png');
  });
});
