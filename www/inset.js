// The region inset: the neighbourhood of a drawing's μ, magnified until its σ ellipses are
// readable, with the nearby test digits, the samples drawn from the region, and a scale bar
// in latent units (the main plane is ~9 units wide; σ is often ~0.01–0.1).

import { insetExtent, niceLength, toCanvas } from './coords.js';
import { drawRegion, sharpContext } from './plane.js';

export class RegionInset {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{points: Float32Array, labels: Uint8Array}} latents test-set means and labels
   * @param {string[]} colours CSS colour of each digit
   */
  constructor(canvas, latents, colours) {
    this.canvas = canvas;
    this.size = Number(canvas.getAttribute('width'));
    this.ctx = sharpContext(canvas, this.size);
    this.latents = latents;
    this.colours = colours;
    this.posterior = null;
    this.samples = null;
    this.redraw();
  }

  /** Shows `{mean, std}` (or nothing for null) and the samples drawn from it (or none). */
  set(posterior, samples = null) {
    this.posterior = posterior;
    this.samples = samples;
    this.redraw();
  }

  /** The window shown, in latent units (null when nothing is drawn). */
  get extent() {
    return this.posterior ? insetExtent(this.posterior.mean, this.posterior.std) : null;
  }

  redraw() {
    const { ctx, size } = this;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size, size);
    const extent = this.extent;
    if (!extent) return;
    const at = (z) => toCanvas(extent, size, z);
    const { points, labels } = this.latents;
    ctx.globalAlpha = 0.7;
    for (let i = 0; i < labels.length; i++) {
      const x = points[2 * i];
      const y = points[2 * i + 1];
      if (x < extent.x_min || x > extent.x_max || y < extent.y_min || y > extent.y_max) continue;
      const [cx, cy] = at([x, y]);
      ctx.fillStyle = this.colours[labels[i] % 10];
      ctx.beginPath();
      ctx.arc(cx, cy, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    const { mean, std } = this.posterior;
    const [cx, cy] = at(mean);
    const unit = size / (extent.x_max - extent.x_min);
    drawRegion(ctx, [cx, cy], [std[0] * unit, std[1] * unit], 1, 3.5);
    if (this.samples) {
      ctx.strokeStyle = '#cf222e';
      ctx.lineWidth = 2;
      for (let i = 0; i < this.samples.length; i += 2) {
        const [sx, sy] = at([this.samples[i], this.samples[i + 1]]);
        ctx.beginPath();
        ctx.moveTo(sx - 4, sy - 4);
        ctx.lineTo(sx + 4, sy + 4);
        ctx.moveTo(sx + 4, sy - 4);
        ctx.lineTo(sx - 4, sy + 4);
        ctx.stroke();
      }
    }
    this.drawScaleBar(unit);
  }

  drawScaleBar(unit) {
    const { ctx, size } = this;
    const length = niceLength((size * 0.35) / unit);
    const px = length * unit;
    const y = size - 12;
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(6, y - 16, px + 70, 24);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(10, y - 4);
    ctx.lineTo(10, y);
    ctx.lineTo(10 + px, y);
    ctx.lineTo(10 + px, y - 4);
    ctx.stroke();
    ctx.fillStyle = '#111';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText(`${length} unit${length === 1 ? '' : 's'}`, 16 + px, y);
  }
}
