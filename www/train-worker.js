// The training worker: fetches the training module (pkg/modules.json's "train": Burn's CPU
// backend with autodiff and the trainer's own training loop) and MNIST from the page's site
// (data/mnist.json names the four gzipped IDX files with their sizes and SHA-256, each checked),
// then trains a fresh VAE a few batches at a time, reporting between them, so that the page
// draws the loss and the latent space as they change and a pause takes effect at once.
//
// Messages in:  {type: 'start', wwwDir, settings (JSON text), subset, stallMs}
//               {type: 'pause'} | {type: 'resume'}
//               {type: 'call', id, op: 'export'}          the current weights and card
//               {type: 'call', id, op: 'means', args: {card, weights, subset}}
//                                                         a model's means of the test subset
// Messages out: {type: 'ready', defaults (JSON text)} | {type: 'init-failed', error}
//               {type: 'data', received, total}           downloading the data
//               {type: 'started', progress}
//               {type: 'steps', reports (Float32Array: loss, recon, kl per step), progress,
//                      imagesPerSecond, seconds}
//               {type: 'scatter', bitmap (ImageBitmap), step}
//               {type: 'paused'} | {type: 'finished', progress}
//               {type: 'result', id, value} | {type: 'error', id, error}
//               {type: 'failed', error}                   the run could not start or stopped

import { STALL_MS, fetchBytes, importWasm } from './fetch-bytes.js';
import { ModelError, errorValue } from './protocol.js';
import { renderScatter } from './scatter.js';

/** How long one chunk of steps should take: short enough that a pause acts at once and the
 *  plot moves smoothly, long enough that reporting costs little. */
const CHUNK_MS = 150;
/** The scatter is recomputed at least this often (in steps, and in wall time). */
const SCATTER_STEPS = 200;
const SCATTER_MS = 3000;

let train = null;
let run = null;
let running = false;
/** Whether `loop` is on (it finishes its chunk after a pause before it stops). */
let looping = false;
let seconds = 0;
let stallMs = STALL_MS;
let data = null;
/** How the scatter is drawn: `{colours, size, dpr}` from the page; its extent only grows
 *  during a run, so that the picture does not jump. */
let look = null;
let extent = null;

/** Imports the training module named in pkg/modules.json. */
async function importTrainModule(wwwDir) {
  const modulesUrl = new URL('pkg/modules.json', wwwDir);
  const modules = JSON.parse(new TextDecoder().decode(await fetchBytes(modulesUrl, { stallMs })));
  if (!modules.train) {
    throw new ModelError('bad-model', 'this build of the page has no training module (pkg/modules.json names none)');
  }
  const { module } = await importWasm(new URL(modules.train, modulesUrl), { stallMs });
  return module;
}

/** SHA-256 of bytes, hex. */
async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Gunzips bytes with the browser's own DecompressionStream. */
async function gunzip(bytes, name) {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new ModelError('bad-input', `${name} is not a valid gzip file (${e.message})`);
  }
}

/** Fetches the four MNIST files named in data/mnist.json, checks each, returns them unzipped
 *  by name. Progress over all four goes to the page. */
async function fetchData(wwwDir) {
  const dataDir = new URL('data/', wwwDir);
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(new URL('mnist.json', dataDir), { stallMs })));
  } catch (e) {
    throw new ModelError('fetch', 'The training data are not on this site (data/mnist.json: ' +
      `${e.message}). The README's first command puts them there when MNIST is on the machine ` +
      '(cargo run --release -p trainer -- download fetches it).');
  }
  const files = manifest.files ?? [];
  const total = files.reduce((n, f) => n + (f.bytes ?? 0), 0);
  const received = new Map();
  let failed = false;
  const report = () => {
    if (!failed) postMessage({ type: 'data', received: [...received.values()].reduce((a, b) => a + b, 0), total });
  };
  const out = {};
  await Promise.all(files.map(async (f) => {
    const bytes = await fetchBytes(new URL(f.name, dataDir), {
      stallMs,
      onProgress: (n) => { received.set(f.name, n); report(); },
    });
    if (bytes.length !== f.bytes || (await sha256(bytes)) !== f.sha256) {
      throw new ModelError('bad-input', `data/${f.name} does not match its size and SHA-256 in data/mnist.json ` +
        `(${bytes.length} bytes; corrupt or stale: rebuild the site)`);
    }
    out[f.name] = await gunzip(bytes, `data/${f.name}`);
  })).catch((e) => {
    failed = true; // the other files' progress no longer counts
    throw e;
  });
  const need = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
  const missing = need.filter((n) => !out[n]);
  if (missing.length) throw new ModelError('bad-input', `data/mnist.json does not name ${missing.join(', ')}`);
  return {
    trainImages: out[need[0]], trainLabels: out[need[1]], testImages: out[need[2]], testLabels: out[need[3]],
  };
}

/** Draws the test subset's means under the current weights and sends the picture. */
async function postScatter(step) {
  const means = await run.subsetMeans();
  const [xMin, xMax, yMin, yMax] = train.planeExtent(means.points);
  extent = {
    x_min: Math.min(xMin, extent?.x_min ?? 0), x_max: Math.max(xMax, extent?.x_max ?? 0),
    y_min: Math.min(yMin, extent?.y_min ?? 0), y_max: Math.max(yMax, extent?.y_max ?? 0),
  };
  const bitmap = renderScatter(means, extent, look.colours, look.size, look.dpr);
  postMessage({ type: 'scatter', bitmap, step, extent }, [bitmap]);
}

async function start({ wwwDir, settings, subset }) {
  if (run) throw new ModelError('bad-input', 'this worker has a run already (the page starts a new worker for a new run)');
  data ??= await fetchData(new URL(wwwDir));
  run = new train.TrainingRun(settings, data.trainImages, data.trainLabels, data.testImages, data.testLabels, subset);
  seconds = 0;
  extent = null;
  postMessage({ type: 'started', progress: run.progress() });
  await postScatter(0);
  running = true;
  if (!looping) loop();
}

/** Trains while running: chunks of steps sized to CHUNK_MS, the scatter every so often. */
async function loop() {
  looping = true;
  let chunk = 1;
  let lastScatterStep = 0;
  let lastScatterAt = performance.now();
  try {
    while (running) {
      const t = performance.now();
      const reports = await run.steps(chunk);
      const ms = performance.now() - t;
      seconds += ms / 1000;
      const progress = run.progress();
      const steps = reports.length / 3;
      if (steps > 0) {
        const imagesPerSecond = (steps * run.batch) / (ms / 1000);
        postMessage({ type: 'steps', reports, progress, imagesPerSecond, seconds }, [reports.buffer]);
        chunk = Math.max(1, Math.min(200, Math.round(steps * CHUNK_MS / Math.max(ms, 1))));
      }
      const done = progress.stepsDone >= progress.totalSteps;
      if (done || progress.stepsDone - lastScatterStep >= SCATTER_STEPS || performance.now() - lastScatterAt >= SCATTER_MS) {
        await postScatter(progress.stepsDone);
        lastScatterStep = progress.stepsDone;
        lastScatterAt = performance.now();
      }
      if (done) {
        running = false;
        postMessage({ type: 'finished', progress });
        return;
      }
      // Let messages (pause, export) in between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    postMessage({ type: 'paused' });
  } catch (e) {
    running = false;
    postMessage({ type: 'failed', error: errorValue(e) });
    if (e instanceof WebAssembly.RuntimeError) setTimeout(() => { throw e; });
  } finally {
    looping = false;
  }
}

const ops = {
  /** The current weights and their card (the trainer's export format), with the test subset's
   *  latent means under them (the plane's scatter for the model). */
  async export() {
    if (!run) throw new ModelError('bad-input', 'no training run to export');
    const [card, weights, latents] = run.export(seconds);
    return [{ card, weights, latents }, [weights.buffer, latents.points.buffer]];
  },
  /** The latent means of the first `subset` test images under a model from files (one the
   *  user opened): the plane's scatter for it. */
  async means({ wwwDir, card, weights, subset }) {
    const base = new URL(wwwDir);
    if (!train) train = await importTrainModule(base);
    data ??= await fetchData(base);
    const means = train.subsetMeans(card, new Uint8Array(weights), data.testImages, data.testLabels, subset);
    return [{ points: means.points, labels: means.labels }, [means.points.buffer]];
  },
};

self.onmessage = async ({ data: message }) => {
  switch (message.type) {
    case 'init':
      if (message.stallMs > 0) stallMs = message.stallMs;
      try {
        train ??= await importTrainModule(new URL(message.wwwDir));
        postMessage({ type: 'ready', defaults: train.defaultTrainSettings() });
      } catch (e) {
        postMessage({ type: 'init-failed', error: errorValue(e) });
      }
      break;
    case 'start':
      look = message.look;
      try {
        await start(message);
      } catch (e) {
        postMessage({ type: 'failed', error: errorValue(e) });
        if (e instanceof WebAssembly.RuntimeError) setTimeout(() => { throw e; });
      }
      break;
    case 'pause':
      running = false;
      break;
    case 'resume':
      if (run && !running) {
        running = true;
        if (!looping) loop();
      }
      break;
    case 'call':
      try {
        const handler = ops[message.op];
        if (!handler) throw new ModelError('bad-input', `unknown operation ${message.op}`);
        const [value, transfer] = await handler(message.args ?? {});
        postMessage({ type: 'result', id: message.id, value }, transfer);
      } catch (e) {
        postMessage({ type: 'error', id: message.id, error: errorValue(e) });
      }
      break;
    default:
      break;
  }
};
