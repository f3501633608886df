// The latent plane: the test set's latent means as a scatter coloured by digit (the paper's
// fig. 2), an optional decoded-grid overlay, the drawing's posterior (μ and its σ ellipses),
// the pinned code A and the path walked from it, samples (of the region and of the prior, with
// the prior's 1σ/2σ/3σ circles) and the point picked for decoding. Mouse, touch, pen and
// keyboard; sharp on high-density screens.

import { toImageData } from './images.js';
import { stepWithin, toCanvas, toLatent } from './coords.js';

/** Arrow-key steps in latent units (Shift: the larger). */
const STEP = 0.05;
const BIG_STEP = 0.5;

/** Sizes a canvas's backing store for the screen's pixel density; returns the context, drawing
 *  in `size` logical pixels. */
export function sharpContext(canvas, size) {
  const dpr = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  canvas.width = Math.round(size * dpr);
  canvas.height = Math.round(size * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Draws a posterior's 1σ (solid) and 2σ (dashed) ellipses around `centre`, `radii` being 1σ
 *  in canvas pixels (never drawn below `minRadius`), and μ as a dot of radius `dot`. */
export function drawRegion(ctx, [cx, cy], [rx, ry], minRadius, dot) {
  ctx.strokeStyle = '#111';
  for (const k of [1, 2]) {
    ctx.setLineDash(k === 1 ? [] : [4, 4]);
    ctx.lineWidth = k === 1 ? 2 : 1;
    ctx.beginPath();
    ctx.ellipse(cx, cy, Math.max(minRadius, k * rx), Math.max(minRadius, k * ry), 0, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.fillStyle = '#111';
  ctx.beginPath();
  ctx.arc(cx, cy, dot, 0, 2 * Math.PI);
  ctx.fill();
}

export class LatentPlane {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{x_min:number,x_max:number,y_min:number,y_max:number}} extent from the model card
   * @param {{onPick: (z: number[]) => void, onPin: () => void, onClear: () => void}} handlers
   */
  constructor(canvas, extent, handlers) {
    this.canvas = canvas;
    this.size = Number(canvas.getAttribute('width'));
    this.ctx = sharpContext(canvas, this.size);
    this.extent = extent;
    this.handlers = handlers;
    this.posterior = null;
    this.pick = null;
    this.pin = null;
    this.path = null;
    this.regionSamples = null;
    this.priorSamples = null;
    this.manifold = null;
    this.showManifold = false;
    this.scatter = null;
    this.dragging = null;
    this.listen();
    this.redraw();
  }

  listen() {
    const { canvas } = this;
    canvas.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      canvas.focus({ preventScroll: true });
      this.dragging = e.pointerId;
      canvas.setPointerCapture(e.pointerId);
      this.handlers.onPick(this.eventLatent(e));
    });
    canvas.addEventListener('pointermove', (e) => {
      if (e.pointerId === this.dragging) this.handlers.onPick(this.eventLatent(e));
    });
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      canvas.addEventListener(type, (e) => {
        if (e.pointerId === this.dragging) this.dragging = null;
      });
    }
    canvas.addEventListener('keydown', (e) => this.key(e));
  }

  key(e) {
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (arrows[e.key]) {
      e.preventDefault();
      const from = this.pick ?? [0, 0];
      const [dx, dy] = arrows[e.key];
      this.handlers.onPick(stepWithin(this.extent, from, dx, dy, e.shiftKey ? BIG_STEP : STEP));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.handlers.onPin();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.handlers.onClear();
    }
  }

  /** Logical canvas position of a latent point. */
  toCanvas(z) {
    return toCanvas(this.extent, this.size, z);
  }

  /** Latent point under a pointer event. */
  eventLatent(e) {
    const r = this.canvas.getBoundingClientRect();
    return toLatent(this.extent, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  }

  /** The pixel density the scatter image should be drawn at (see `setScatter`). */
  get dpr() {
    return this.canvas.width / this.size;
  }

  /** The test codes' scatter, as an image of the plane drawn by the model worker (null while
   *  it is on its way). */
  setScatter(bitmap) {
    this.scatter?.close?.();
    this.scatter = bitmap;
    this.redraw();
  }

  /** Another model: its plane extent; the scatter (until `setScatter`) and the decoded grid
   *  are dropped. */
  setModel(extent) {
    this.extent = extent;
    this.scatter?.close?.();
    this.scatter = null;
    this.manifold = null;
    this.redraw();
  }

  /** Sets the decoded grid (`grid × grid` images, row-major from the top-left). */
  setManifold(images, grid) {
    const off = document.createElement('canvas');
    off.width = off.height = grid * 28;
    const ctx = off.getContext('2d');
    for (let k = 0; k < grid * grid; k++) {
      ctx.putImageData(toImageData(images.subarray(k * 784, (k + 1) * 784), 28), (k % grid) * 28, Math.floor(k / grid) * 28);
    }
    this.manifold = off;
    this.redraw();
  }

  /** Forgets the decoded grid (another model). */
  clearManifold() {
    this.manifold = null;
    this.redraw();
  }

  setShowManifold(show) {
    this.showManifold = show;
    this.redraw();
  }

  /** Sets any of: posterior `{mean, std}`, pick, pin, path, regionSamples, priorSamples
   *  (null hides one), then redraws once. */
  set(layers) {
    Object.assign(this, layers);
    this.redraw();
  }

  redraw() {
    const { ctx, size } = this;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size, size);
    if (this.showManifold && this.manifold) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.manifold, 0, 0, size, size);
      ctx.globalAlpha = 0.35;
      if (this.scatter) ctx.drawImage(this.scatter, 0, 0, size, size);
      ctx.globalAlpha = 1;
    } else {
      this.drawAxes();
      if (this.scatter) ctx.drawImage(this.scatter, 0, 0, size, size);
    }
    if (this.priorSamples) this.drawPrior();
    if (this.path) this.drawPath();
    if (this.posterior) this.drawPosterior();
    if (this.regionSamples) this.drawMarks(this.regionSamples, '#111', 2);
    if (this.pin) this.drawPin();
    if (this.pick) this.drawPick();
  }

  drawAxes() {
    const { ctx, size, extent } = this;
    ctx.fillStyle = '#6e7781';
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, sans-serif';
    const step = extent.x_max - extent.x_min > 8 ? 2 : 1;
    for (let t = Math.ceil(extent.x_min / step) * step; t <= extent.x_max; t += step) {
      const [x] = this.toCanvas([t, 0]);
      const [, y] = this.toCanvas([0, t]);
      ctx.strokeStyle = t === 0 ? '#c8c8c8' : '#ececec';
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, 0);
      ctx.lineTo(Math.round(x) + 0.5, size);
      ctx.moveTo(0, Math.round(y) + 0.5);
      ctx.lineTo(size, Math.round(y) + 0.5);
      ctx.stroke();
      if (t !== 0) {
        ctx.fillText(String(t), x + 3, size - 4);
        ctx.fillText(String(t), 3, y - 3);
      }
    }
  }

  /** The prior's 1σ, 2σ and 3σ circles and the samples drawn from it. */
  drawPrior() {
    const { ctx } = this;
    const [cx, cy] = this.toCanvas([0, 0]);
    const px = this.size / (this.extent.x_max - this.extent.x_min);
    ctx.strokeStyle = '#57606a';
    ctx.fillStyle = '#57606a';
    ctx.font = '11px system-ui, sans-serif';
    ctx.setLineDash([6, 4]);
    for (const k of [1, 2, 3]) {
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(cx, cy, k * px, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillText(`${k}σ`, cx + k * px * Math.SQRT1_2 + 3, cy - k * px * Math.SQRT1_2 - 3);
    }
    ctx.setLineDash([]);
    const pts = this.priorSamples;
    ctx.strokeStyle = '#cf222e';
    ctx.lineWidth = 1.5;
    for (let i = 0; i < pts.length; i += 2) {
      const [x, y] = this.toCanvas([pts[i], pts[i + 1]]);
      ctx.beginPath();
      ctx.arc(x, y, 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  drawPath() {
    const { ctx } = this;
    const pts = this.path;
    ctx.strokeStyle = '#8250df';
    ctx.fillStyle = '#8250df';
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (let i = 0; i < pts.length; i += 2) {
      const [x, y] = this.toCanvas([pts[i], pts[i + 1]]);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
    for (let i = 0; i < pts.length; i += 2) {
      const [x, y] = this.toCanvas([pts[i], pts[i + 1]]);
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  drawMarks(pts, colour, radius) {
    const { ctx } = this;
    ctx.fillStyle = colour;
    for (let i = 0; i < pts.length; i += 2) {
      const [x, y] = this.toCanvas([pts[i], pts[i + 1]]);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  drawPosterior() {
    const [cx, cy] = this.toCanvas(this.posterior.mean);
    const px = this.size / (this.extent.x_max - this.extent.x_min);
    const py = this.size / (this.extent.y_max - this.extent.y_min);
    const [sx, sy] = this.posterior.std;
    drawRegion(this.ctx, [cx, cy], [sx * px, sy * py], 2, 4);
  }

  drawPin() {
    const { ctx } = this;
    const [cx, cy] = this.toCanvas(this.pin);
    ctx.fillStyle = '#8250df';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(cx, cy, 9, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('A', cx, cy + 0.5);
    ctx.textAlign = 'start';
    ctx.textBaseline = 'alphabetic';
  }

  drawPick() {
    const { ctx } = this;
    const [cx, cy] = this.toCanvas(this.pick);
    ctx.strokeStyle = '#d1242f';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx - 9, cy);
    ctx.lineTo(cx + 9, cy);
    ctx.moveTo(cx, cy - 9);
    ctx.lineTo(cx, cy + 9);
    ctx.stroke();
  }
}
