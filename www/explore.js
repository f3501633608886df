// What the user does with a loaded model, wired to the model worker: draw (input,
// reconstruction, posterior, the region and its samples, nearest test digits), pick points on
// the plane (mouse or keyboard), pin A and walk to B, sample the prior, show the decoded grid.
// Every model call goes through the client, latest-wins per kind; this module only draws.

import { DrawingPad } from './draw.js';
import { LatentPlane } from './plane.js';
import { RegionInset } from './inset.js';
import { clearImage, drawImage, drawStrip } from './images.js';
import { formatCounts } from './coords.js';

const $ = (id) => document.getElementById(id);
const REGION_SAMPLES = 8;
const FRAMES = 10;
const PRIOR_MAX = 100;
/** Milliseconds per frame of the walk's animation. */
const FRAME_MS = 120;
/** Test digits counted around a picked point for the "near the 7s" readout. */
const NEAR_K = 20;
/** 2-D standard normal: P(r ≤ 1), P(1 < r ≤ 2), P(2 < r ≤ 3), P(r > 3). */
const PRIOR_RINGS = [0.393, 0.471, 0.124, 0.011];

const fmt = (v, d = 2) => v.toFixed(d).replace('-', '−');
const point = (z) => `(${fmt(z[0])}, ${fmt(z[1])})`;

export class Explorer {
  /**
   * @param {import('./model-client.js').ModelClient} client
   * @param {{card: object, latents: object, colours: string[], manifoldGrid: number}} loaded
   * @param {{error: (e: Error, what: string) => void, timing: (kind: string, ms: number) => void,
   *   changed: () => void}} report `changed` runs when the view a link holds changes
   */
  constructor(client, loaded, report) {
    this.client = client;
    this.report = report;
    this.modelId = loaded.model;
    this.card = loaded.card;
    this.latents = loaded.latents;
    this.manifoldGrid = loaded.manifoldGrid;
    this.encoded = null;
    this.encodes = 0;
    this.pick = null;
    this.decoded = null;
    this.nearDigit = null;
    this.pin = null;
    this.pinInput = null;
    this.walk = null;
    this.region = null;
    this.prior = null;
    this.seed = 1;
    this.playing = null;
    this.pad = new DrawingPad($('draw'), () => this.encode());
    this.plane = new LatentPlane($('plane'), this.card.plane, {
      onPick: (z) => this.pickAt(z),
      onPin: () => this.pinCurrent(),
      onClear: () => this.clearPickAndPin(),
    });
    this.inset = new RegionInset($('inset'), this.latents, loaded.colours);
    this.loadScatter();
    for (const id of ['input28', 'reconstruction', 'decoded']) clearImage($(id));
    this.wireControls();
  }

  wireControls() {
    $('clear').addEventListener('click', () => this.clearDrawing());
    $('pin').addEventListener('click', () => this.pinDrawing());
    $('unpin').addEventListener('click', () => this.setPin(null));
    $('play').addEventListener('click', () => this.play());
    $('sample-region').addEventListener('click', () => this.sampleRegion());
    $('sample-prior').addEventListener('click', () => this.samplePrior());
    $('prior-n').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.samplePrior();
    });
    $('clear-prior').addEventListener('click', () => this.clearPrior());
    const manifold = $('manifold');
    manifold.addEventListener('change', () => this.showGrid(manifold.checked));
    $('sample-prior').disabled = false;
  }

  /** Runs a latest-wins request; returns its value, or null if superseded or failed. */
  async ask(channel, op, args, what, transfer = []) {
    let t0 = 0;
    try {
      const value = await this.client.request(channel, () => {
        t0 = performance.now();
        return { op, args: typeof args === 'function' ? args() : args, transfer: typeof transfer === 'function' ? transfer() : transfer };
      });
      if (value) this.report.timing(channel, performance.now() - t0);
      return value;
    } catch (e) {
      if (e.kind !== 'worker-died' && e.kind !== 'superseded') this.report.error(e, what);
      return null;
    }
  }

  /** Asks the worker to draw the test codes' scatter for the plane. */
  async loadScatter() {
    const card = this.card;
    const r = await this.ask('scatter', 'scatter', { size: this.plane.size, dpr: this.plane.dpr }, 'drawing the test codes');
    if (r && this.card === card) this.plane.setScatter(r.bitmap);
  }

  // --- drawing --------------------------------------------------------------------------

  async encode() {
    if (!this.pad.inked) return;
    let rgba = null;
    const e = await this.ask('encode', 'encode', () => {
      const { data, width, height } = this.pad.pixels();
      rgba = data.buffer;
      return { rgba, width, height };
    }, 'encoding the drawing', () => [rgba]);
    if (!e || !this.pad.inked) return;
    this.encoded = e;
    this.encodes += 1;
    drawImage($('input28'), e.input);
    drawImage($('reconstruction'), e.reconstruction);
    const posterior = { mean: Array.from(e.mean), std: Array.from(e.std) };
    this.region = null;
    this.plane.set({ posterior, regionSamples: null });
    this.inset.set(posterior);
    $('encoding').textContent = `μ = ${point(e.mean)}, σ = (${fmt(e.std[0], 3)}, ${fmt(e.std[1], 3)})`;
    $('nearest').textContent = `Nearest ${e.nearestK} test digits to μ: ${formatCounts(e.nearest)}`;
    $('region-text').textContent = this.regionSentence(posterior);
    clearImage($('region-strip'));
    $('pin').disabled = false;
    $('sample-region').disabled = false;
    if (this.pin && (!this.walk || this.walk.to === 'drawing')) this.walkTo(posterior.mean, 'drawing');
  }

  regionSentence({ std }) {
    const width = this.card.plane.x_max - this.card.plane.x_min;
    const share = (100 * 2 * Math.max(std[0], std[1])) / width;
    return `The encoder does not map the drawing to a point but to a Gaussian region q(z|x): ` +
      `the ellipses are 1σ and 2σ around μ, magnified here (the scale bar is in latent units); ` +
      `its 2σ span is ${share < 0.1 ? share.toFixed(2) : share.toFixed(1)} % of the plane's width. ` +
      'Sample points from it to see how much the decoded digit varies inside.';
  }

  async sampleRegion() {
    const e = this.encoded;
    if (!e) return;
    const args = { mean: Array.from(e.mean), std: Array.from(e.std), n: REGION_SAMPLES, seed: this.seed++ };
    const r = await this.ask('region', 'sample', args, 'sampling the region');
    if (!r || this.encoded !== e) return;
    this.region = r;
    this.inset.set(this.inset.posterior, r.points);
    this.plane.set({ regionSamples: r.points });
    drawStrip($('region-strip'), r.images, REGION_SAMPLES);
    let diff = 0;
    for (let k = 0; k < REGION_SAMPLES; k++) {
      for (let i = 0; i < 784; i++) diff += Math.abs(r.images[k * 784 + i] - e.reconstruction[i]);
    }
    const mean = (100 * diff) / (REGION_SAMPLES * 784);
    $('region-text').textContent = `${REGION_SAMPLES} points z = μ + σ·ε (ε ~ N(0, I)) drawn from the region, ` +
      `marked × in the inset, decoded in the strip below: on average they differ from the ` +
      `reconstruction by ${mean.toFixed(2)} % of the pixel range per pixel. ` +
      'A small region means the code pins the digit down; the KL term keeps the regions from shrinking to points.';
  }

  clearDrawing() {
    this.pad.clear();
    this.encoded = null;
    this.region = null;
    for (const id of ['input28', 'reconstruction', 'region-strip']) clearImage($(id));
    this.plane.set({ posterior: null, regionSamples: null });
    this.inset.set(null);
    $('encoding').textContent = '';
    $('nearest').textContent = '';
    $('region-text').textContent = 'Draw a digit to see the region its encoding covers.';
    $('pin').disabled = true;
    $('sample-region').disabled = true;
    if (this.walk?.to === 'drawing') this.setWalk(null);
  }

  // --- picking ----------------------------------------------------------------------------

  async pickAt(z) {
    this.pick = z;
    this.plane.set({ pick: z });
    this.report.changed();
    if (this.pin) this.walkTo(z, 'pick');
    const [decoded, near] = await Promise.all([
      this.ask('pick', 'decode', { points: [z[0], z[1]] }, 'decoding'),
      this.ask('near', 'nearest', { z, k: NEAR_K }, 'finding the nearest digits'),
    ]);
    if (near && this.pick === z) this.nearDigit = near.counts.indexOf(Math.max(...near.counts));
    if (!decoded || this.pick !== z) return;
    this.decoded = decoded.images;
    drawImage($('decoded'), decoded.images);
    const near3 = this.nearDigit === null ? '' : `, near the ${this.nearDigit}s`;
    $('z').textContent = `z = ${point(z)}${near3}`;
  }

  clearPickAndPin() {
    this.pick = null;
    this.decoded = null;
    this.plane.set({ pick: null });
    this.report.changed();
    clearImage($('decoded'));
    $('z').textContent = 'click the plane';
    this.setPin(null);
  }

  // --- pinning and walking ------------------------------------------------------------------

  pinDrawing() {
    if (this.encoded) this.setPin(Array.from(this.encoded.mean), 'your drawing', Array.from(this.encoded.input));
  }

  /** Enter on the plane: pins the picked point, else the drawing. */
  pinCurrent() {
    if (this.pick) this.setPin(this.pick, 'the picked point');
    else this.pinDrawing();
  }

  /** Pins `z` as A; `input` is the drawing it encodes, if any (re-encoded after a model switch). */
  setPin(z, what = '', input = null) {
    this.pin = z;
    this.pinInput = z ? input : null;
    this.report.changed();
    this.setWalk(null);
    this.plane.set({ pin: z });
    $('unpin').disabled = !z;
    $('interp-text').textContent = z
      ? `A is pinned at ${point(z)} (${what}). Draw another digit or click the plane: the decoder walks from A to there.`
      : 'Pin a drawing as A, then draw another digit or click the plane: the decoder walks from A to there.';
  }

  setWalk(walk) {
    this.walk = walk;
    this.plane.set({ path: walk?.points ?? null });
    $('play').disabled = !walk;
    $('save-strip').disabled = !walk;
    if (!walk) clearImage($('interp-strip'));
  }

  async walkTo(b, to) {
    const a = this.pin;
    const w = await this.ask('walk', 'interpolate', { a, b, frames: FRAMES }, 'interpolating');
    if (!w || this.pin !== a) return;
    this.setWalk({ ...w, a, b, to });
    drawStrip($('interp-strip'), w.images, FRAMES);
    $('interp-text').textContent = `From A ${point(a)} to B ${point(b)}: ${FRAMES} evenly spaced codes on the straight path, ` +
      'decoded in one batch. A continuous latent space morphs one digit into the other.';
  }

  /** Animates the decoded view (and the pick mark) along the walk. */
  play() {
    const walk = this.walk;
    if (!walk) return;
    cancelAnimationFrame(this.playing);
    let start = null;
    const step = (now) => {
      if (this.walk !== walk) return;
      start ??= now; // rAF's timestamp: the frame's start, which may precede performance.now()
      const k = Math.min(FRAMES - 1, Math.max(0, Math.floor((now - start) / FRAME_MS)));
      drawImage($('decoded'), walk.images.subarray(k * 784, (k + 1) * 784));
      this.plane.set({ pick: [walk.points[2 * k], walk.points[2 * k + 1]] });
      $('z').textContent = `frame ${k + 1} of ${FRAMES}: z = ${point([walk.points[2 * k], walk.points[2 * k + 1]])}`;
      if (k < FRAMES - 1) this.playing = requestAnimationFrame(step);
    };
    this.playing = requestAnimationFrame(step);
  }

  // --- the prior ----------------------------------------------------------------------------

  /** Samples the prior (a new seed, or `seed` to decode the same points again). */
  async samplePrior(seed = null) {
    const raw = $('prior-n').value.trim();
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > PRIOR_MAX) {
      $('prior-text').textContent = `N must be a whole number from 1 to ${PRIOR_MAX} (got “${raw}”).`;
      return;
    }
    const s = seed ?? this.seed++;
    const r = await this.ask('prior', 'sample', { mean: [0, 0], std: [1, 1], n, seed: s }, 'sampling the prior');
    if (!r) return;
    this.prior = { ...r, n, seed: s };
    this.plane.set({ priorSamples: r.points });
    drawStrip($('prior-grid'), r.images, n, Math.min(n, 10));
    $('clear-prior').hidden = false;
    const pct = (v) => `${Math.round(100 * v)} %`;
    const [a, b, c, d] = r.rings;
    $('prior-text').textContent = `${n} samples z ~ N(0, I): ${a} within 1σ, ${b} between 1σ and 2σ, ${c} between 2σ and 3σ, ` +
      `${d} beyond (expected ${PRIOR_RINGS.map(pct).join(', ')}). Points far from the mean are rarer, ` +
      'and the KL term pulled the codes of real digits toward where the prior puts its mass.';
  }

  clearPrior() {
    this.prior = null;
    this.plane.set({ priorSamples: null });
    clearImage($('prior-grid'));
    $('clear-prior').hidden = true;
    $('prior-text').textContent = '';
  }

  // --- the decoded grid ---------------------------------------------------------------------

  async showGrid(show) {
    this.report.changed();
    if (show && !this.plane.manifold) {
      const g = await this.ask('grid', 'grid', { grid: this.manifoldGrid }, 'decoding the grid');
      if (!g) {
        $('manifold').checked = false;
        return;
      }
      this.plane.setManifold(g.images, g.grid);
    }
    this.plane.setShowManifold($('manifold').checked);
  }

  /** Another model (switched by the user): the drawing, the pick, A (re-encoded if it was a
   *  drawing), the walk, the prior samples and the grid, all again under the new model. */
  async setModel(loaded) {
    this.modelId = loaded.model;
    this.card = loaded.card;
    this.latents = loaded.latents;
    this.plane.setModel(this.card.plane);
    this.loadScatter();
    this.inset.latents = this.latents;
    this.region = null;
    this.plane.set({ regionSamples: null });
    clearImage($('region-strip'));
    const walkTo = this.walk;
    if (this.pinInput) {
      const input = this.pinInput;
      const e = await this.ask('pin', 'encodeImage', { image: input }, 're-encoding A');
      if (e && this.pinInput === input) this.setPin(Array.from(e.mean), 'your drawing, encoded by this model', input);
    } else if (this.pin) {
      this.setPin(this.pin, 'a point');
    }
    if (this.pad.inked) this.encode();
    if (this.pick) this.pickAt(this.pick);
    else if (walkTo?.to === 'pick') this.walkTo(walkTo.b, 'pick');
    if (this.prior) this.samplePrior(this.prior.seed);
    if ($('manifold').checked) this.showGrid(true);
  }

  /** After a worker restart: asks again for everything the page shows. */
  refresh() {
    if (this.pad.inked) this.encode();
    if (this.pick) this.pickAt(this.pick);
    if (this.walk) this.walkTo(this.walk.b, this.walk.to);
  }

  /** What a link holds of the view (see fragment.js). */
  view() {
    return { model: this.modelId, z: this.pick, pin: this.pin, grid: $('manifold').checked };
  }

  /** A plain snapshot of what the page shows, for the tests. */
  snapshot() {
    const arr = (v) => (v ? Array.from(v) : null);
    return {
      encoded: this.encoded && {
        input: arr(this.encoded.input), mean: arr(this.encoded.mean), std: arr(this.encoded.std),
        reconstruction: arr(this.encoded.reconstruction), nearest: this.encoded.nearest,
      },
      encodes: this.encodes,
      pick: this.pick,
      decoded: arr(this.decoded),
      pin: this.pin,
      model: this.modelId,
      walk: this.walk && { points: arr(this.walk.points), images: arr(this.walk.images), a: this.walk.a, b: this.walk.b },
      region: this.region && { points: arr(this.region.points), images: arr(this.region.images) },
      prior: this.prior && { points: arr(this.prior.points), rings: this.prior.rings, n: this.prior.n },
      manifold: this.plane.manifold !== null,
      scatter: this.plane.scatter !== null,
      busy: this.client.busy(),
    };
  }
}
