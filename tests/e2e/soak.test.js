// The short soak: 1,000 seeded interactions (draw, clear, click, drag, grid, backend and model
// switches); fails if the JS heap or the wasm memory grows by more than 10 % after the first 200,
// or the renderer's resident memory by more than 25 % (it is noisier). The long one: soak.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from './harness.js';
import { growth, soak } from './soak-driver.js';

test('1,000 interactions: no growth of the JS heap, the wasm memory or the renderer', async () => {
  const lines = [];
  const { samples } = await soak({ root: ROOT, steps: 1000, every: 200, log: (l) => lines.push(l) });
  const g = growth(samples, 200);
  const report = lines.join('\n');
  assert.ok(g.heap <= 0.10, `JS heap grew ${(100 * g.heap).toFixed(1)} %\n${report}`);
  assert.ok(g.wasm <= 0.10, `wasm memory grew ${(100 * g.wasm).toFixed(1)} %\n${report}`);
  assert.ok(g.rss <= 0.25, `renderer memory grew ${(100 * g.rss).toFixed(1)} %\n${report}`);
});
