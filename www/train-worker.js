// The training worker: fetches the training module (pkg/modules.json's "train": Burn's CPU
// backend with autodiff and the trainer's own training loop) and MNIST from the page's site
// (data/mnist.json names the four gzipped IDX files with their sizes and SHA-256, each checked),
// then trains a fresh VAE a few batches at a time, reporting between them, so that the page
// draws the loss and the latent space as they change and a pause takes effect at once.
// On WebGPU, the run trains in the page's WebGPU module (which trains on either backend), where
// the user asks for it or where a measurement finds it faster (see chooseBackend).
//
// Messages in:  {type: 'init', wwwDir, stallMs}
//               {type: 'start', wwwDir, settings (JSON text), subset, look, backend}
//                 backend: 'auto' | 'cpu' | 'webgpu' | 'measure' (auto measured unless the
//                 adapter is a software one, measure always)
//               {type: 'pause'} | {type: 'resume'}
//               {type: 'call', id, op: 'export'}          the current weights and card
//               {type: 'call', id, op: 'means', args: {card, weights, subset}}
//                                                         a model's means of the test subset
// Messages out: {type: 'ready', defaults (JSON text)} | {type: 'init-failed', error}
//               {type: 'data', received, total}           downloading the data
//               {type: 'choosing', text}                  choosing the backend (WebGPU's start, timings)
//               {type: 'started', progress, backend ('cpu' | 'webgpu'), reason}
//               {type: 'steps', reports (Float32Array: loss, recon, kl per step), progress,
//                      imagesPerSecond, seconds}
//               {type: 'scatter', bitmap (ImageBitmap), step}
//               {type: 'paused'} | {type: 'finished', progress}
//               {type: 'result', id, value} | {type: 'error', id, error}
//               {type: 'failed', error}                   the run could not start or stopped

import { STALL_MS, fetchBytes, importWasm } from './fetch-bytes.js';
import { ModelError, errorValue } from './protocol.js';
import { renderScatter } from './scatter.js';
import { probeAdapter, watchDevices } from './webgpu-adapter.js';

/** How long one chunk of steps should take: short enough that a pause acts at once and the
 *  plot moves smoothly, long enough that reporting costs little. */
const CHUNK_MS = 150;
/** The scatter is recomputed at least this often (in steps, and in wall time). */
const SCATTER_STEPS = 200;
const SCATTER_MS = 3000;
/** Steps each backend runs when they are measured against each other: the first ones compile
 *  WebGPU's shaders and are not timed, the rest are. */
const WARM_STEPS = 2;
const TIMED_STEPS = 6;

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

/** The page's WebGPU module (it trains on either backend), once imported and started. */
let gpuModule = null;
/** The GPUDevice the WebGPU module asked for, and whether it was lost. */
let gpuDevice = null;
let gpuLost = null;

/** pkg/modules.json, read once. */
let modules = null;
async function readModules(wwwDir) {
  const url = new URL('pkg/modules.json', wwwDir);
  modules ??= { url, names: JSON.parse(new TextDecoder().decode(await fetchBytes(url, { stallMs }))) };
  return modules;
}

/** Imports the module `key` ('train' or 'webgpu') named in pkg/modules.json. */
async function importModule(wwwDir, key) {
  const { url, names } = await readModules(wwwDir);
  if (!names[key]) {
    throw new ModelError('bad-model', `this build of the page has no ${key} module (pkg/modules.json names none)`);
  }
  const { module } = await importWasm(new URL(names[key], url), { stallMs });
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

/** Whether this worker watches its GPUDevices already (once is enough). */
let watching = false;

/** Starts the WebGPU module's WebGPU (once): null when it runs, else why not. A trap in the
 *  WebGPU module is a reason too: that module is a separate instance, the CPU one is unharmed. */
async function startWebgpu(wwwDir) {
  if (gpuModule) return null;
  try {
    const module = await importModule(wwwDir, 'webgpu');
    if (!watching) {
      watching = true;
      watchDevices((device) => {
        gpuDevice = device;
        device.lost.then((info) => {
          if (device !== gpuDevice) return;
          gpuLost = `the WebGPU device was lost (${info.message || info.reason || 'no reason given'})`;
        });
      });
    }
    const started = await module.initTrainingWebgpu();
    if (!started.ok) return started.reason;
    gpuModule = module;
    return null;
  } catch (e) {
    return e.message ?? String(e);
  }
}

/** Lets a device loss that caused a failure be seen first (GPUDevice.lost settles in a task of
 *  its own, possibly just after the failed call). */
const settleLoss = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Frees a run that failed, unless its module trapped (then nothing in it can be called). */
function discard(failedRun, error) {
  if (!(error instanceof WebAssembly.RuntimeError)) {
    try { failedRun?.free(); } catch { /* already unusable */ }
  }
}

/** Milliseconds per step of `newRun` (after its warm-up steps), and the reports of every step
 *  it ran: a measured run is kept if it wins, its steps being real ones. */
async function timeSteps(newRun) {
  const warm = await newRun.steps(WARM_STEPS);
  const t = performance.now();
  const timed = await newRun.steps(TIMED_STEPS);
  const ms = (performance.now() - t) / Math.max(1, timed.length / 3);
  const reports = new Float32Array(warm.length + timed.length);
  reports.set(warm);
  reports.set(timed, warm.length);
  return { ms, reports, seconds: ms * (reports.length / 3) / 1000 };
}

/** The run the user asked for, on the backend `wanted` asks for: `{run, reason, reports}`
 *  (reports: the steps already run while measuring). 'cpu' trains on the CPU; 'webgpu' on
 *  WebGPU (the CPU if it cannot start); 'auto' measures both unless there is no adapter or it
 *  is a software one (slower than the CPU here); 'measure' measures both on any adapter.
 *  Whatever fails on WebGPU leaves the CPU to train; `choosing(text)` says what is going on. */
async function chooseBackend(wwwDir, wanted, newRun, choosing) {
  const onCpu = (reason) => ({ run: newRun(train, 'cpu'), reason, reports: null });
  if (wanted === 'cpu') return onCpu('the CPU, as chosen');
  const adapter = await probeAdapter();
  if (!adapter) return onCpu('the CPU: this browser offers no WebGPU adapter');
  if (adapter.fallback && wanted === 'auto') {
    return onCpu(`the CPU: WebGPU here is a software adapter (${adapter.name}), slower than the CPU`);
  }
  choosing(`starting WebGPU (${adapter.name})…`);
  const failure = await startWebgpu(wwwDir);
  if (failure) return onCpu(`the CPU: WebGPU could not start (${failure})`);
  let gpuRun = null;
  let gpu;
  try {
    gpuRun = newRun(gpuModule, 'webgpu');
    if (wanted === 'webgpu') return { run: gpuRun, reason: `WebGPU (${adapter.name}), as chosen`, reports: null };
    choosing('timing a few steps on WebGPU (the first ones compile its shaders)…');
    gpu = await timeSteps(gpuRun);
  } catch (e) {
    await settleLoss();
    discard(gpuRun, e);
    if (e instanceof WebAssembly.RuntimeError) gpuModule = null;
    return onCpu(`the CPU: WebGPU failed (${gpuLost ?? e.message ?? e})`);
  }
  let cpuRun = null;
  let cpu;
  try {
    choosing('timing a few steps on the CPU…');
    cpuRun = newRun(train, 'cpu');
    cpu = await timeSteps(cpuRun);
  } catch (e) {
    discard(cpuRun, e);
    if (e instanceof WebAssembly.RuntimeError) throw e; // the CPU module is unusable: the worker goes
    return { run: gpuRun, reason: `WebGPU: the CPU failed while measuring (${e.message ?? e})`, reports: gpu.reports, seconds: gpu.seconds };
  }
  if (gpuLost) {
    discard(gpuRun, null);
    return { run: cpuRun, reason: `the CPU: ${gpuLost} while measuring`, reports: cpu.reports, seconds: cpu.seconds };
  }
  const ms = (t) => `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`;
  const versus = `${ms(gpu.ms)} a step on WebGPU (${adapter.name}), ${ms(cpu.ms)} on the CPU`;
  if (gpu.ms < cpu.ms) {
    cpuRun.free();
    return { run: gpuRun, reason: `WebGPU, measured faster: ${versus}`, reports: gpu.reports, seconds: gpu.seconds };
  }
  gpuRun.free();
  return { run: cpuRun, reason: `the CPU, measured faster: ${versus}`, reports: cpu.reports, seconds: cpu.seconds };
}

async function start({ wwwDir, settings, subset, backend }) {
  if (run) throw new ModelError('bad-input', 'this worker has a run already (the page starts a new worker for a new run)');
  const base = new URL(wwwDir);
  data ??= await fetchData(base);
  const newRun = (module, on) => new module.TrainingRun(settings, data.trainImages, data.trainLabels,
    data.testImages, data.testLabels, subset, on);
  const choosing = (text) => postMessage({ type: 'choosing', text });
  const chosen = await chooseBackend(base, backend ?? 'auto', newRun, choosing);
  run = chosen.run;
  seconds = chosen.seconds ?? 0;
  extent = null;
  // Running from here on: a Pause that arrives while the first scatter is drawn is kept.
  running = true;
  postMessage({ type: 'started', progress: run.progress(), backend: run.backend, reason: chosen.reason });
  if (chosen.reports) {
    const reports = chosen.reports;
    postMessage({
      type: 'steps', reports, progress: run.progress(), seconds,
      imagesPerSecond: (reports.length / 3) * run.batch / Math.max(seconds, 1e-3),
    }, [reports.buffer]);
  }
  await postScatter(0);
  if (!running) postMessage({ type: 'paused' });
  else if (!looping) loop();
}

/** Trains while running: chunks of steps sized to CHUNK_MS, the scatter every so often. */
async function loop() {
  looping = true;
  let chunk = 1;
  let lastScatterStep = 0;
  let lastScatterAt = performance.now();
  try {
    while (running) {
      if (gpuLost && run.backend === 'webgpu') {
        throw new ModelError('webgpu-unavailable', `${gpuLost}: the run stopped. Reset and start again (the CPU trains if WebGPU is not back).`);
      }
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
    await settleLoss();
    const lost = gpuLost && run.backend === 'webgpu';
    const error = lost ? new ModelError('webgpu-unavailable', `${gpuLost}: the run stopped. Reset and start again (the CPU trains if WebGPU is not back).`) : e;
    postMessage({ type: 'failed', error: errorValue(error) });
    if (e instanceof WebAssembly.RuntimeError && !lost) setTimeout(() => { throw e; });
  } finally {
    looping = false;
  }
}

const ops = {
  /** The current weights and their card (the trainer's export format), with the test subset's
   *  latent means under them (the plane's scatter for the model). */
  async export() {
    if (!run) throw new ModelError('bad-input', 'no training run to export');
    const [card, weights, latents] = await run.export(seconds);
    return [{ card, weights, latents }, [weights.buffer, latents.points.buffer]];
  },
  /** The latent means of the first `subset` test images under a model from files (one the
   *  user opened): the plane's scatter for it. */
  async means({ wwwDir, card, weights, subset }) {
    const base = new URL(wwwDir);
    if (!train) train = await importModule(base, 'train');
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
        train ??= await importModule(new URL(message.wwwDir), 'train');
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
        running = false;
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
