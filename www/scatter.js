// The test set's codes as a scatter coloured by digit (the paper's fig. 2), drawn by the model
// worker into an OffscreenCanvas and handed to the page as an ImageBitmap: 10,000 dots take
// ~100 ms to draw, which must not happen on the main thread.

import { toCanvas } from './coords.js';

/** Dot radius, in logical pixels. */
const RADIUS = 1.6;

/**
 * Draws the scatter of `latents` (`{points, labels}`) over `extent` into a `size × size`
 * logical-pixel image at `dpr` device pixels per logical pixel; returns an ImageBitmap.
 */
export function renderScatter(latents, extent, colours, size, dpr) {
  const side = Math.round(size * dpr);
  const canvas = new OffscreenCanvas(side, side);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.globalAlpha = 0.5;
  const { points, labels } = latents;
  for (let digit = 0; digit < 10; digit++) {
    ctx.fillStyle = colours[digit];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] % 10 !== digit) continue;
      const [cx, cy] = toCanvas(extent, size, [points[2 * i], points[2 * i + 1]]);
      ctx.beginPath();
      ctx.arc(cx, cy, RADIUS, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  return canvas.transferToImageBitmap();
}
