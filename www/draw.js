// The drawing pad: white strokes on black for mouse, touch and pen (Pointer Events), with a
// brush about as wide, relative to the digit, as MNIST's strokes.

/** Brush width as a fraction of the pad's side (MNIST: ~2.5 px strokes in a 20 px box). */
const BRUSH = 0.075;

export class DrawingPad {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {() => void} onChange called after every stroke segment (the caller coalesces)
   */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.last = null;
    this.pointer = null;
    this.inked = false;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      canvas.addEventListener(type, (e) => this.up(e));
    }
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  /** Pointer position in canvas pixels. */
  at(e) {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) / r.width) * this.canvas.width,
      ((e.clientY - r.top) / r.height) * this.canvas.height,
    ];
  }

  down(e) {
    if (this.pointer !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.pointer = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.at(e);
    this.segment([this.last]);
  }

  move(e) {
    if (e.pointerId !== this.pointer) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches them.
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    this.segment((events.length ? events : [e]).map((ev) => this.at(ev)));
  }

  up(e) {
    if (e.pointerId !== this.pointer) return;
    this.pointer = null;
    this.last = null;
  }

  segment(points) {
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = BRUSH * this.canvas.width;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...this.last);
    for (const p of points) ctx.lineTo(...p);
    if (points.length === 1 && points[0] === this.last) {
      ctx.arc(this.last[0], this.last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.stroke();
    }
    this.last = points[points.length - 1];
    this.inked = true;
    this.onChange();
  }

  /** The drawing's RGBA pixels. */
  pixels() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }
}
