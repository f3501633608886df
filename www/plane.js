// The latent plane: the test set's latent means as a scatter coloured by digit (the paper's
// fig. 2), an optional decoded-manifold overlay, the drawing's posterior (μ and its σ
// ellipses) and the point picked for decoding.

import { toImageData } from './images.js';

export class LatentPlane {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{x_min:number,x_max:number,y_min:number,y_max:number}} extent from the model card
   * @param {{points: Float32Array, labels: Uint8Array}} latents test-set means and labels
   * @param {string[]} colours CSS colour of each digit
   * @param {(z: [number, number]) => void} onPick called while the user clicks or drags
   */
  constructor(canvas, extent, latents, colours, onPick) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.extent = extent;
    this.colours = colours;
    this.onPick = onPick;
    this.posterior = null;
    this.pick = null;
    this.manifold = null;
    this.showManifold = false;
    this.scatter = this.renderScatter(latents);
    this.dragging = null;
    canvas.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      this.dragging = e.pointerId;
      canvas.setPointerCapture(e.pointerId);
      this.onPick(this.toLatent(e));
    });
    canvas.addEventListener('pointermove', (e) => {
      if (e.pointerId === this.dragging) this.onPick(this.toLatent(e));
    });
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      canvas.addEventListener(type, (e) => {
        if (e.pointerId === this.dragging) this.dragging = null;
      });
    }
    this.redraw();
  }

  /** Canvas pixel of a latent point. */
  toCanvas([x, y]) {
    const { x_min, x_max, y_min, y_max } = this.extent;
    return [
      ((x - x_min) / (x_max - x_min)) * this.canvas.width,
      ((y_max - y) / (y_max - y_min)) * this.canvas.height,
    ];
  }

  /** Latent point under a pointer event. */
  toLatent(e) {
    const r = this.canvas.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const fy = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
    const { x_min, x_max, y_min, y_max } = this.extent;
    return [x_min + fx * (x_max - x_min), y_max - fy * (y_max - y_min)];
  }

  /** The scatter, drawn once into an offscreen canvas. */
  renderScatter({ points, labels }) {
    const off = document.createElement('canvas');
    off.width = this.canvas.width;
    off.height = this.canvas.height;
    const ctx = off.getContext('2d');
    ctx.globalAlpha = 0.5;
    for (let i = 0; i < labels.length; i++) {
      const [cx, cy] = this.toCanvas([points[2 * i], points[2 * i + 1]]);
      ctx.fillStyle = this.colours[labels[i] % 10];
      ctx.beginPath();
      ctx.arc(cx, cy, 1.6, 0, 2 * Math.PI);
      ctx.fill();
    }
    return off;
  }

  /** Sets the decoded grid (`grid × grid` images, row-major from the top-left). */
  setManifold(images, grid) {
    const off = document.createElement('canvas');
    off.width = off.height = grid * 28;
    const ctx = off.getContext('2d');
    for (let k = 0; k < grid * grid; k++) {
      const img = toImageData(images.subarray(k * 784, (k + 1) * 784), 28);
      ctx.putImageData(img, (k % grid) * 28, Math.floor(k / grid) * 28);
    }
    this.manifold = off;
    this.redraw();
  }

  setShowManifold(show) {
    this.showManifold = show;
    this.redraw();
  }

  /** The drawing's posterior: mean μ and standard deviation σ (2 values each), or null. */
  setPosterior(posterior) {
    this.posterior = posterior;
    this.redraw();
  }

  setPick(z) {
    this.pick = z;
    this.redraw();
  }

  redraw() {
    const { ctx, canvas } = this;
    const { width: w, height: h } = canvas;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    if (this.showManifold && this.manifold) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.manifold, 0, 0, w, h);
      ctx.globalAlpha = 0.35;
      ctx.drawImage(this.scatter, 0, 0);
      ctx.globalAlpha = 1;
    } else {
      this.drawAxes();
      ctx.drawImage(this.scatter, 0, 0);
    }
    if (this.posterior) this.drawPosterior();
    if (this.pick) this.drawPick();
  }

  drawAxes() {
    const { ctx, canvas, extent } = this;
    ctx.strokeStyle = '#e4e4e4';
    ctx.fillStyle = '#8a8a8a';
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, sans-serif';
    const step = extent.x_max - extent.x_min > 8 ? 2 : 1;
    for (let t = Math.ceil(extent.x_min / step) * step; t <= extent.x_max; t += step) {
      const [x] = this.toCanvas([t, 0]);
      const [, y] = this.toCanvas([0, t]);
      ctx.strokeStyle = t === 0 ? '#c8c8c8' : '#ececec';
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, 0);
      ctx.lineTo(Math.round(x) + 0.5, canvas.height);
      ctx.moveTo(0, Math.round(y) + 0.5);
      ctx.lineTo(canvas.width, Math.round(y) + 0.5);
      ctx.stroke();
      if (t !== 0) {
        ctx.fillText(String(t), x + 3, canvas.height - 4);
        ctx.fillText(String(t), 3, y - 3);
      }
    }
  }

  drawPosterior() {
    const { ctx } = this;
    const [mx, my] = this.posterior.mean;
    const [sx, sy] = this.posterior.std;
    const [cx, cy] = this.toCanvas([mx, my]);
    const px = this.canvas.width / (this.extent.x_max - this.extent.x_min);
    const py = this.canvas.height / (this.extent.y_max - this.extent.y_min);
    ctx.strokeStyle = '#111';
    for (const k of [1, 2]) {
      ctx.setLineDash(k === 1 ? [] : [4, 4]);
      ctx.lineWidth = k === 1 ? 2 : 1;
      ctx.beginPath();
      ctx.ellipse(cx, cy, Math.max(2, k * sx * px), Math.max(2, k * sy * py), 0, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = '#111';
    ctx.beginPath();
    ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
    ctx.fill();
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
