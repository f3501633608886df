// The Train panel: a fresh VAE trained in this tab by the training worker (www/train-worker.js,
// Burn's autodiff in wasm on the CPU backend or WebGPU, the trainer's own training loop), with the loss
// terms drawn per step and the latent means of 2,000 test digits redrawn as they move. Loaded
// only when the user opens the panel: the first view fetches none of it.
//
// The page's body carries data-train: 'loading' (the module), 'ready', 'data' (downloading the
// training images, then choosing the backend), 'running', 'paused', 'finished' or 'failed'; and data-train-backend, once a
// run has started: 'cpu' or 'webgpu'.

import { ModelError, PendingCalls, fromErrorValue } from './protocol.js';

/** Test images whose latent means the panel's scatter shows. */
export const SUBSET = 2000;
/** The id, in the model menu, of the model trained here. */
const TRAINED_ID = 'trained-here';
/** The id, in the model menu, of a model opened from files. */
const OPENED_ID = 'opened';
/** Steps the loss plot keeps at full resolution before it halves them (pairs averaged). */
const PLOT_POINTS = 2000;

const $ = (id) => document.getElementById(id);

/** Per-step series, halved (pairs averaged) when long, so drawing stays cheap. */
class Series {
  constructor() {
    this.recon = [];
    this.kl = [];
    this.stride = 1;
    this.pending = null;
  }

  push(recon, kl) {
    if (this.stride > 1) {
      const p = this.pending ?? { recon: 0, kl: 0, n: 0 };
      p.recon += recon; p.kl += kl; p.n += 1;
      if (p.n < this.stride) { this.pending = p; return; }
      this.pending = null;
      recon = p.recon / p.n; kl = p.kl / p.n;
    }
    this.recon.push(recon);
    this.kl.push(kl);
    if (this.recon.length >= PLOT_POINTS) {
      const halve = (xs) => xs.filter((_, i) => i % 2 === 0).map((x, i) => (x + (xs[2 * i + 1] ?? x)) / 2);
      this.recon = halve(this.recon);
      this.kl = halve(this.kl);
      this.stride *= 2;
    }
  }
}

/** Draws the reconstruction term (left axis) and the KL term (right axis) over the steps. */
function drawLoss(canvas, series, stepsPerPoint) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pad = { l: 40, r: 36, t: 10, b: 22 };
  ctx.strokeStyle = '#d0d7de';
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  const n = series.recon.length;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#656d76';
  ctx.fillText(`steps: ${n * stepsPerPoint}`, pad.l, h - 6);
  if (n < 2) return;
  const line = (raw, colour, axisRight) => {
    // Each batch's figure is noisy: the line is their moving average over about 50 steps.
    const alpha = Math.min(1, stepsPerPoint / 50);
    let avg = raw[0];
    const values = raw.map((v) => (avg += alpha * (v - avg)));
    // Skip the first steps' large values in the range: the interesting part is what follows.
    const tail = values.slice(Math.min(values.length - 1, Math.floor(values.length * 0.02)));
    const lo = Math.min(...tail);
    const hi = Math.max(...tail);
    const span = hi - lo || 1;
    const x = (i) => pad.l + (i / (n - 1)) * (w - pad.l - pad.r);
    const y = (v) => pad.t + (1 - Math.min(1, Math.max(0, (v - lo) / span))) * (h - pad.t - pad.b);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.textAlign = axisRight ? 'left' : 'right';
    const ax = axisRight ? w - pad.r + 3 : pad.l - 3;
    ctx.fillText(hi.toFixed(1), ax, pad.t + 9);
    ctx.fillText(lo.toFixed(1), ax, h - pad.b);
    ctx.textAlign = 'left';
  };
  line(series.recon, '#0969da', false);
  line(series.kl, '#cf222e', true);
}

/** An integer with thousands separators ("6,689"), without Intl: the first toLocaleString
 *  loads ICU's data on the main thread (measured: a 90 ms task in headless Chromium). */
function thousands(x) {
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Reads the form into the settings JSON the training module checks. */
function readForm() {
  return {
    hidden: $('train-hidden').value.split(',').map(Number),
    beta: Number($('train-beta').value),
    lr: Number($('train-lr').value),
    batch: Number($('train-batch').value),
    seed: Number($('train-seed').value),
    epochs: Number($('train-epochs').value),
  };
}

/** Sets the form from settings (the module's defaults). */
function fillForm(s) {
  $('train-hidden').value = s.hidden.join(',');
  $('train-beta').value = String(s.beta);
  $('train-beta-out').value = Number(s.beta).toFixed(1);
  $('train-lr').value = String(s.lr);
  $('train-batch').value = String(s.batch);
  $('train-seed').value = String(s.seed);
  $('train-epochs').value = String(s.epochs);
}

/** Saves bytes as a file named `name`. */
function saveFile(bytes, name, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export class TrainPanel {
  /**
   * @param {object} o
   * @param {URL} o.wwwDir the page's www/ folder
   * @param {string[]} o.colours the digit colours
   * @param {(custom: object) => Promise<boolean>} o.useModel switches the page to a model
   * @param {(message: string) => void} o.showError
   * @param {(message: string) => void} o.showNotice
   */
  constructor(o) {
    this.o = o;
    this.worker = null;
    this.calls = new PendingCalls();
    this.series = new Series();
    this.started = false;
    this.frame = 0;
    this.lastFigures = null;
    this.state('loading');
    this.wire();
    this.newWorker();
  }

  state(name) {
    document.body.dataset.train = name;
    const running = name === 'running';
    $('train-start').disabled = !(name === 'ready');
    $('train-pause').disabled = !(running || name === 'paused');
    $('train-pause').textContent = name === 'paused' ? 'Resume' : 'Pause';
    // Reset also while the data download and the backend's choice go on (a fresh worker).
    $('train-reset').disabled = !['data', 'running', 'paused', 'finished', 'failed'].includes(name);
    const has = this.started && ['running', 'paused', 'finished'].includes(name);
    $('train-use').disabled = !has;
    $('train-download').disabled = !has;
    for (const el of $('train-form').elements) el.disabled = name !== 'ready';
  }

  status(text) {
    $('train-status').textContent = text;
  }

  /** A fresh worker (a new run always gets one: the old one's memory goes with it). */
  newWorker() {
    this.worker?.terminate();
    this.calls.rejectAll(new ModelError('superseded', 'the run was reset'));
    this.started = false;
    this.trainingOn = null;
    delete document.body.dataset.trainBackend;
    this.worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
    const worker = this.worker;
    // A message from a worker that Reset has replaced is dropped.
    worker.onmessage = ({ data }) => { if (worker === this.worker) this.receive(data); };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.fail(`the training worker stopped (${e.message || 'no message'}); Reset starts again`);
    };
    this.status('Fetching the training module…');
    this.state('loading');
    this.worker.postMessage({ type: 'init', wwwDir: String(this.o.wwwDir), stallMs: this.stallMs() });
  }

  stallMs() {
    return Number(new URLSearchParams(location.search).get('stall-ms')) || null;
  }

  fail(message) {
    this.state('failed');
    this.status(`Training stopped: ${message}`);
    this.o.showError(`Training in the page: ${message}. The page keeps working with its own model.`);
  }

  call(op, args = {}) {
    return this.calls.send(this.worker, op, args);
  }

  receive(m) {
    switch (m.type) {
      case 'ready':
        if (!this.defaults) fillForm(JSON.parse(m.defaults));
        this.defaults = JSON.parse(m.defaults);
        this.state('ready');
        this.status('Ready: choose the settings and press Start.');
        break;
      case 'init-failed':
        this.fail(fromErrorValue(m.error).message);
        break;
      case 'data': {
        if (document.body.dataset.train !== 'data') break; // a late report after a failure
        const bar = $('train-data');
        bar.classList.add('shown');
        bar.max = m.total || 1;
        bar.value = m.received;
        this.state('data');
        this.status(`Downloading the training images: ${(m.received / 1e6).toFixed(1)} of ${(m.total / 1e6).toFixed(1)} MB`);
        break;
      }
      case 'choosing':
        if (document.body.dataset.train !== 'data') break;
        $('train-data').classList.remove('shown');
        this.status(`Choosing the backend: ${m.text}`);
        break;
      case 'started':
        $('train-data').classList.remove('shown');
        this.started = true;
        this.startedAt = performance.now();
        this.progress = m.progress;
        this.backend = m.backend;
        document.body.dataset.trainBackend = m.backend;
        this.state('running');
        this.trainingOn = `Training on ${m.reason}.`;
        this.status(this.trainingOn);
        break;
      case 'steps': {
        const r = m.reports;
        for (let i = 0; i < r.length; i += 3) this.series.push(r[i + 1], r[i + 2]);
        this.progress = m.progress;
        const last = r.length - 3;
        this.lastFigures = { loss: r[last], recon: r[last + 1], kl: r[last + 2], ips: m.imagesPerSecond };
        this.seconds = m.seconds;
        this.redraw();
        break;
      }
      case 'scatter': {
        const canvas = $('train-scatter');
        canvas.width = m.bitmap.width;
        canvas.height = m.bitmap.height;
        canvas.getContext('bitmaprenderer').transferFromImageBitmap(m.bitmap);
        canvas.dataset.step = String(m.step);
        break;
      }
      case 'paused':
        this.state('paused');
        this.status('Paused: Resume goes on; Use this model and Download take the weights as they are.');
        break;
      case 'finished':
        this.progress = m.progress;
        this.state('finished');
        this.status('Finished: use the model on the page, or download it.');
        this.redraw();
        break;
      case 'failed':
        this.fail(fromErrorValue(m.error).message);
        break;
      case 'result':
      case 'error':
        this.calls.settle(m);
        break;
      default:
        break;
    }
  }

  /** Redraws the plot and the figures once per frame at most. */
  redraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const canvas = $('train-loss');
      drawLoss(canvas, this.series, this.series.stride);
      // For the tests: the first and the last plotted reconstruction term.
      canvas.dataset.firstRecon = String(this.series.recon[0] ?? '');
      canvas.dataset.lastRecon = String(this.series.recon.at(-1) ?? '');
      // For the benchmark (tests/e2e/bench-train.js): where the run is and how fast it goes.
      if (this.progress) {
        Object.assign(canvas.dataset, {
          stepsDone: this.progress.stepsDone, stepsPerEpoch: this.progress.stepsPerEpoch,
          imagesPerSecond: this.lastFigures?.ips ?? '', seconds: this.seconds ?? '',
        });
        if (this.progress.stepsDone >= this.progress.stepsPerEpoch && !canvas.dataset.epochSeconds) {
          canvas.dataset.epochSeconds = this.seconds;
        }
      }
      const p = this.progress;
      const f = this.lastFigures;
      if (!p || !f) return;
      const epochDone = p.stepsDone % p.stepsPerEpoch;
      $('train-figures').textContent =
        `step ${p.stepsDone} of ${p.totalSteps} · epoch ${Math.min(p.epoch, p.totalSteps / p.stepsPerEpoch)} ` +
        `(${epochDone === 0 && p.stepsDone > 0 ? p.stepsPerEpoch : epochDone} of ${p.stepsPerEpoch} steps) · ` +
        `loss ${f.loss.toFixed(1)} = reconstruction ${f.recon.toFixed(1)} + β × KL ${f.kl.toFixed(2)} · ` +
        `${thousands(f.ips)} images/s on ${this.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}`;
    });
  }

  start() {
    const settings = readForm();
    const canvas = $('train-scatter');
    this.series = new Series();
    this.status('Starting…');
    this.state('data');
    this.worker.postMessage({
      type: 'start',
      wwwDir: String(this.o.wwwDir),
      settings: JSON.stringify(settings),
      subset: SUBSET,
      backend: $('train-backend').value,
      look: { colours: this.o.colours, size: canvas.clientWidth || 300, dpr: window.devicePixelRatio || 1 },
    });
  }

  /** The current weights as a model the page can hold. */
  async current() {
    const { card, weights, latents } = await this.call('export');
    const parsed = JSON.parse(card);
    const arch = parsed.architecture.hidden.join('-');
    return {
      id: TRAINED_ID,
      name: 'Trained here',
      about: `Trained in this tab: MLP ${arch}, ${parsed.training.epochs} epochs ` +
        `(${this.progress?.stepsDone ?? 0} steps), β = ${parsed.training.beta}; on ${latents.labels.length} test ` +
        `images: negative ELBO ${parsed.metrics.neg_elbo.toFixed(1)} nats, 5-NN ${(100 * parsed.metrics.knn5_acc).toFixed(1)} %.`,
      card,
      weights,
      latents,
    };
  }

  /** Opens a model from files (the page's download, or the trainer's export): the card and the
   *  weights; the scatter is the test subset's means under it (none without the test images).
   *  A wrong file is refused with a message; the page keeps the model it had. */
  async open(files) {
    const list = [...files];
    const card = list.find((f) => f.name.endsWith('.json'));
    const weights = list.find((f) => f.name.endsWith('.bpk'));
    if (!card || !weights || list.length !== 2) {
      this.o.showError(`Open two files, a model's card.json and its weights.bpk (got: ${list.map((f) => f.name).join(', ') || 'none'}).`);
      return false;
    }
    try {
      const [cardText, weightBytes] = [await card.text(), new Uint8Array(await weights.arrayBuffer())];
      let latents;
      let note = '';
      try {
        latents = await this.call('means', { wwwDir: String(this.o.wwwDir), card: cardText, weights: weightBytes, subset: SUBSET });
      } catch (e) {
        if (e.kind !== 'fetch') throw e;
        latents = { points: new Float32Array(0), labels: new Uint8Array(0) };
        note = ' (no scatter: the test images are not on this site)';
      }
      const parsed = JSON.parse(cardText);
      const arch = parsed.architecture.hidden.join('-');
      const model = {
        id: OPENED_ID,
        name: `Opened: ${card.name} + ${weights.name}`,
        about: `Opened from files: MLP ${arch}, ${parsed.training.epochs} epochs; ${parsed.training.command}${note}.`,
        card: cardText,
        weights: weightBytes,
        latents,
      };
      if (await this.o.useModel(model)) this.o.showNotice(`The page now uses the model from ${card.name} and ${weights.name}${note}.`);
      return true;
    } catch (e) {
      this.o.showError(`The model in ${card.name} and ${weights.name} could not be opened: ${e.message}. The page keeps its model.`);
      return false;
    }
  }

  wire() {
    $('train-open').addEventListener('change', (e) => {
      this.open(e.target.files);
      e.target.value = '';
    });
    const panel = $('train-panel');
    panel.addEventListener('dragover', (e) => { e.preventDefault(); });
    panel.addEventListener('drop', (e) => {
      e.preventDefault();
      this.open(e.dataTransfer.files);
    });
    $('train-beta').addEventListener('input', (e) => { $('train-beta-out').value = Number(e.target.value).toFixed(1); });
    $('train-start').addEventListener('click', () => this.start());
    $('train-pause').addEventListener('click', () => {
      const paused = document.body.dataset.train === 'paused';
      this.worker.postMessage({ type: paused ? 'resume' : 'pause' });
      if (paused) { this.state('running'); this.status(this.trainingOn ?? 'Training…'); }
    });
    $('train-reset').addEventListener('click', () => {
      this.series = new Series();
      this.progress = null;
      const loss = $('train-loss');
      for (const key of Object.keys(loss.dataset)) delete loss.dataset[key];
      drawLoss(loss, this.series, 1);
      $('train-scatter').getContext('bitmaprenderer')?.transferFromImageBitmap(null);
      $('train-figures').textContent = '';
      $('train-data').classList.remove('shown');
      this.newWorker();
    });
    $('train-use').addEventListener('click', async () => {
      try {
        const model = await this.current();
        if (await this.o.useModel(model)) this.o.showNotice('The page now uses the model trained here (pick another in the Model menu to go back).');
      } catch (e) {
        this.o.showError(`Using the trained model failed: ${e.message}`);
      }
    });
    $('train-download').addEventListener('click', async () => {
      try {
        const { card, weights } = await this.current();
        saveFile(card, 'card.json', 'application/json');
        saveFile(weights, 'weights.bpk', 'application/octet-stream');
      } catch (e) {
        this.o.showError(`Downloading the trained model failed: ${e.message}`);
      }
    });
  }
}
