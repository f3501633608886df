// Plane coordinates, scale bars, keyboard steps and the nearest-digit readout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCounts, insetExtent, niceLength, stepWithin, toCanvas, toLatent } from '../../www/coords.js';

const extent = { x_min: -4, x_max: 4, y_min: -2, y_max: 6 };

test('canvas and latent coordinates are inverse (y grows upward in the plane)', () => {
  assert.deepEqual(toCanvas(extent, 800, [-4, 6]), [0, 0]);
  assert.deepEqual(toCanvas(extent, 800, [4, -2]), [800, 800]);
  assert.deepEqual(toCanvas(extent, 800, [0, 2]), [400, 400]);
  for (const z of [[1.5, -0.5], [-3, 5]]) {
    const [cx, cy] = toCanvas(extent, 800, z);
    const back = toLatent(extent, cx / 800, cy / 800);
    assert.ok(Math.abs(back[0] - z[0]) < 1e-12 && Math.abs(back[1] - z[1]) < 1e-12);
  }
  assert.deepEqual(toLatent(extent, -0.5, 1.5), [-4, -2], 'outside the canvas clamps to the edge');
});

test('scale bars are round lengths that fit', () => {
  assert.equal(niceLength(0.037), 0.02);
  assert.equal(niceLength(7), 5);
  assert.equal(niceLength(1), 1);
  assert.equal(niceLength(0.15), 0.1);
  assert.equal(niceLength(0), 0);
  assert.equal(niceLength(NaN), 0);
});

test('the inset window follows σ, with a floor', () => {
  assert.deepEqual(insetExtent([1, 2], [0.1, 0.2], 3), { x_min: 1 - 0.6000000000000001, x_max: 1.6, y_min: 2 - 0.6000000000000001, y_max: 2.6 });
  const tiny = insetExtent([0, 0], [0, 0]);
  assert.equal(tiny.x_max - tiny.x_min, 0.04);
});

test('arrow-key steps stay inside the plane', () => {
  assert.deepEqual(stepWithin(extent, [0, 0], 1, 0, 0.5), [0.5, 0]);
  assert.deepEqual(stepWithin(extent, [3.9, 5.9], 1, 1, 0.5), [4, 6]);
  assert.deepEqual(stepWithin(extent, [-3.9, -1.9], -1, -1, 0.5), [-4, -2]);
});

test('digit counts read most frequent first', () => {
  const counts = [0, 0, 0, 0, 8, 0, 0, 0, 0, 12];
  assert.equal(formatCounts(counts), '9 ×12, 4 ×8');
  assert.equal(formatCounts([1, 1, 0, 0, 0, 0, 0, 0, 0, 0]), '0 ×1, 1 ×1');
  assert.equal(formatCounts(new Array(10).fill(0)), '');
});
