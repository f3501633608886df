// The model worker: loads the CPU-only wasm module and the model, then (only where WebGPU can
// help) the module with WebGPU, picks the faster backend by measuring, and answers the page's
// requests (encode, decode, grid, samples, interpolation, nearest digits). The page's main
// thread only handles input and draws.
//
// Messages in:  {type: 'load', wwwDir, model, custom, backend, stallMs}  (model: an id of
//               models.json or null for its default; custom: a model the page holds, see
//               loadCustom, or null; backend: 'cpu' | 'webgpu' | 'measure' | null; stallMs: how long a
//               download may go without a byte before it is given up, null for the default)
//               {type: 'call', id, op, args}
// Messages out: {type: 'loaded', index, model, card, latents, colours, manifoldGrid}
//               {type: 'backend', backend, reason, webgpu, adapter, settled?, lost?}
//               {type: 'result', id, value} | {type: 'error', id, error: {kind, message}}
//               {type: 'load-failed', error}
// A wasm trap (a panic, an out-of-memory) leaves the module unusable: the worker then throws
// it uncaught, the page sees the worker die and starts a new one.

import { STALL_MS, fetchBytes as fetchFile, importWasm } from './fetch-bytes.js';
import { medianMs } from './measure.js';
import { ModelError, errorValue } from './protocol.js';
import { renderScatter } from './scatter.js';
import { probeAdapter, watchDevices } from './webgpu-adapter.js';

const CALIBRATION_GRID = 10;
/** Test digits counted around a drawing's μ ("nearest 20: 9 ×12, 4 ×8"). */
const NEAREST = 20;

/** The CPU-only module's exports (the page's pure functions, and `Model` on the CPU). */
let wasm = null;
/** The model on the CPU module. */
let cpu = null;
/** The model on the WebGPU module, once fetched and attached; null otherwise. */
let gpu = null;
/** Which of the two serves requests: 'cpu' or 'webgpu'. */
let active = 'cpu';
/** Where WebGPU stands: 'not-attached' (not tried), 'offered' (a software adapter is there; its
 *  module is fetched if the user picks it), 'available', 'unavailable' or 'lost'. */
let webgpu = 'not-attached';
let adapterName = '';
/** The GPUDevice the WebGPU module asked for (watched for loss; the test hook destroys it). */
let gpuDevice = null;
let index = null;
let modelId = null;
let card = null;
let cardText = null;
let weights = null;
let latents = null;
let backendReason = '';
let stallMs = STALL_MS;
let modulesUrl = null;
let modules = null;
/** Each loaded wasm module's linear memory (for the soak's figures). */
const memories = {};
/** Settles when the model is loaded: calls that arrive earlier (after a restart) wait for it. */
let markLoaded;
const loaded = new Promise((resolve, reject) => { markLoaded = { resolve, reject }; });
loaded.catch(() => {});

/** Downloads started ahead of need (see prefetchModel), by URL: each is taken once. */
const early = new Map();

/** Fetches `name` relative to `dir` (see fetch-bytes.js), or takes the download of that URL
 *  that prefetchModel started (the same bytes, or the same error). */
function fetchBytes(dir, name) {
  const url = new URL(name, dir);
  const started = early.get(url.href);
  early.delete(url.href);
  return started ?? fetchFile(url, { stallMs });
}

/** Starts the downloads of the model's files while the wasm module downloads: models.json,
 *  then the card of the model `wanted` (its default), then its weights and latents, with the
 *  file names the build copied from the module's exports into modules.json. Only a head start:
 *  the loading path below checks everything as before and takes these downloads by URL; a guess
 *  that proves wrong (a file it cannot read, a model directory outside the site) just starts
 *  nothing more. Each next download starts in a reaction attached to the previous one as soon
 *  as that one starts, so it runs before the loading path's own `await` on the same download
 *  resumes: the loading path always finds it in `early` (never a second download). */
function prefetchModel(wwwDir, wanted) {
  const names = modules?.files;
  if (typeof names?.index !== 'string' || typeof names?.card !== 'string') return;
  const start = (dir, name) => {
    const url = new URL(name, dir);
    const download = fetchFile(url, { stallMs });
    download.catch(() => {});
    early.set(url.href, download);
    return download;
  };
  const json = (bytes) => JSON.parse(new TextDecoder().decode(bytes));
  const inSite = (url) => url.origin === wwwDir.origin && url.href.startsWith(wwwDir.href);
  start(wwwDir, names.index).then((bytes) => {
    const index = json(bytes);
    const entry = index.models.find((m) => m.id === wanted) ?? index.models.find((m) => m.id === index.default);
    const dir = new URL(entry.dir, wwwDir);
    if (!inSite(dir)) return;
    start(dir, names.card).then((card) => {
      const { weights, latents } = json(card).files;
      if (typeof weights !== 'string' || typeof latents !== 'string') return;
      if (!inSite(new URL(weights, dir)) || !inSite(new URL(latents, dir))) return;
      start(dir, weights);
      start(dir, latents);
    }).catch(() => {});
  }).catch(() => {});
}

/** Imports one of the wasm modules named in pkg/modules.json and initialises it. */
async function importModule(which) {
  const url = new URL(modules[which], modulesUrl);
  try {
    const { module, exports } = await importWasm(url, { stallMs });
    memories[which] = exports.memory;
    return module;
  } catch (e) {
    if (e instanceof ModelError) throw e; // its download failed: that error says which
    throw new ModelError('bad-model', `The WebAssembly module ${url.pathname} failed to load ` +
      `(${e.message ?? e}). Was it built? The README's first command builds it.`);
  }
}

/** Reads and checks models.json into `index`. */
async function readIndex(wwwDir) {
  const text = new TextDecoder().decode(await fetchBytes(wwwDir, wasm.indexFileName()));
  index = JSON.parse(wasm.readModelIndex(text));
}

/** Reads models.json and picks the model `wanted` (its default when null or unknown). */
async function chooseModel(wwwDir, wanted) {
  await readIndex(wwwDir);
  const entry = index.models.find((m) => m.id === wanted) ?? index.models.find((m) => m.id === index.default);
  modelId = entry.id;
  return new URL(entry.dir, wwwDir);
}

/** Loads a model the page holds (trained in the page, or opened from files): `custom` is
 *  `{id, name, about, card (text), weights (bytes), latents: {points, labels}}`. */
async function loadCustom(wwwDir, custom) {
  await readIndex(wwwDir);
  index.models = [...index.models.filter((m) => m.id !== custom.id),
    { id: custom.id, name: custom.name, about: custom.about, dir: null }];
  modelId = custom.id;
  cardText = custom.card;
  weights = new Uint8Array(custom.weights);
  const { points, labels } = custom.latents;
  if (!(points instanceof Float32Array && labels instanceof Uint8Array && points.length === 2 * labels.length)) {
    throw new ModelError('bad-model', 'the latent means of the model do not fit its labels');
  }
  latents = { points, labels };
  cpu = wasm.Model.load(cardText, weights);
  card = JSON.parse(cpu.cardJson);
}

async function load(wwwDir, wanted, custom) {
  modulesUrl = new URL('pkg/modules.json', wwwDir);
  try {
    modules = JSON.parse(new TextDecoder().decode(await fetchBytes(modulesUrl, '')));
  } catch (e) {
    throw new ModelError('bad-model', `The list of WebAssembly modules (${modulesUrl.pathname}) ` +
      `could not be read (${e.message}). Was it built? The README's first command builds it.`);
  }
  if (!custom) prefetchModel(wwwDir, wanted);
  wasm = await importModule('cpu');
  if (custom) {
    await loadCustom(wwwDir, custom);
    return;
  }
  const modelDir = await chooseModel(wwwDir, wanted);
  cardText = new TextDecoder().decode(await fetchBytes(modelDir, wasm.cardFileName()));
  let parsed;
  try {
    parsed = JSON.parse(cardText);
  } catch (e) {
    throw new ModelError('bad-model', `model file ${wasm.cardFileName()} is not valid JSON: ${e.message}`);
  }
  const files = parsed.files ?? {};
  if (typeof files.weights !== 'string' || typeof files.latents !== 'string') {
    throw new ModelError('bad-model', `model file ${wasm.cardFileName()} does not name the weights and latents files`);
  }
  const [weightBytes, latentBytes] = await Promise.all([
    fetchBytes(modelDir, files.weights),
    fetchBytes(modelDir, files.latents),
  ]);
  latents = wasm.readLatents(latentBytes);
  cpu = wasm.Model.load(cardText, weightBytes);
  weights = weightBytes;
  card = JSON.parse(cpu.cardJson);
  early.clear(); // a head start the loading path did not take (a wrong guess) is dropped
}

/** The model that serves requests now. */
const model = () => (active === 'webgpu' && gpu ? gpu : cpu);

function backendInfo() {
  return {
    type: 'backend',
    backend: active,
    reason: backendReason,
    webgpu,
    adapter: adapterName,
  };
}

function deviceLost(device, info) {
  if (device !== gpuDevice || webgpu === 'lost') return;
  dropGpu(`the WebGPU device was lost (${info.message || info.reason || 'no reason given'}); ` +
    'the CPU runs instead');
  postMessage({ ...backendInfo(), settled: true, lost: true });
}

/** Fetches the WebGPU module and attaches WebGPU there (once); true when it is usable. */
let attaching = null;
function attachWebgpu() {
  attaching ??= (async () => {
    // A device loss (a driver reset, a GPU process crash, or the test hook) moves the page to
    // the CPU instead of failing calls.
    watchDevices((device) => {
      gpuDevice = device;
      device.lost.then((info) => deviceLost(device, info));
    });
    const module = await importModule('webgpu');
    const m = module.Model.load(cardText, weights);
    if (!(await m.attachWebgpu())) {
      webgpu = 'unavailable';
      backendReason = `WebGPU unavailable: ${m.webgpuReason}`;
      m.free();
      return false;
    }
    m.setBackend('webgpu');
    gpu = m;
    webgpu = 'available';
    adapterName = m.adapterName;
    return true;
  })();
  return attaching;
}

/** Times a grid decode on both backends and keeps the faster (WebGPU may be slower than the CPU
 *  for this small model). Returns the reason shown. */
async function calibrate() {
  const { x_min, x_max, y_min, y_max } = card.plane;
  const pts = wasm.gridPoints(x_min, x_max, y_min, y_max, CALIBRATION_GRID);
  const cpuMs = await medianMs(() => cpu.decodeBatch(pts), 3);
  const gpuMs = await medianMs(() => gpu.decodeBatch(pts), 3);
  const adapter = adapterName || 'the WebGPU adapter';
  const n = CALIBRATION_GRID * CALIBRATION_GRID;
  const ms = (t) => `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`;
  if (gpuMs < cpuMs) {
    active = 'webgpu';
    return `measured faster: ${n} decodes in ${ms(gpuMs)} on ${adapter} vs ${ms(cpuMs)} on the CPU`;
  }
  active = 'cpu';
  const soft = gpu.adapterIsFallback ? ' (a software adapter)' : '';
  return `measured faster: ${n} decodes in ${ms(cpuMs)} on the CPU vs ${ms(gpuMs)} on ${adapter}${soft}`;
}

/** Settles on a backend while the CPU serves. The WebGPU module is fetched only for an adapter
 *  that is not a software fallback, or when asked for: `forced` 'webgpu' uses it, 'measure'
 *  measures it against the CPU even on a software adapter, 'cpu' never fetches it. */
async function settleBackend(forced) {
  if (forced === 'cpu') {
    backendReason = 'the CPU was requested (by the link, ?backend=cpu or your choice)';
    // WebGPU stays on offer (its module is fetched only if picked).
    const adapter = await probeAdapter();
    if (adapter) {
      webgpu = 'offered';
      adapterName = adapter.name;
    }
  } else if (!('gpu' in navigator)) {
    backendReason = 'this browser has no WebGPU';
  } else {
    const adapter = await probeAdapter();
    if (!adapter) {
      webgpu = 'unavailable';
      backendReason = 'the browser offers no WebGPU adapter';
    } else if (adapter.fallback && forced !== 'webgpu' && forced !== 'measure') {
      webgpu = 'offered';
      adapterName = adapter.name;
      backendReason = `WebGPU here is a software adapter (${adapter.name}), slower than the CPU; ` +
        'its module is fetched only if you pick it';
    } else {
      backendReason = 'starting WebGPU…';
      postMessage(backendInfo());
      if (await attachWebgpu()) {
        if (forced === 'webgpu') {
          active = 'webgpu';
          backendReason = 'WebGPU was requested (by the link or ?backend=webgpu)';
        } else {
          try {
            backendReason = await calibrate();
          } catch (e) {
            if (e instanceof WebAssembly.RuntimeError) throw e;
            dropGpu(`WebGPU failed while calibrating (${e.message ?? e}); the CPU runs`);
          }
        }
      }
    }
  }
  postMessage({ ...backendInfo(), settled: true });
}

/** Stops using WebGPU for the rest of the page's life: the CPU serves every call. */
function dropGpu(reason) {
  gpu?.disableWebgpu();
  gpu = null;
  active = 'cpu';
  webgpu = 'lost';
  backendReason = reason;
}

/** Runs a model call; a failure on WebGPU (other than a trap) switches to the CPU and retries. */
async function guarded(what, call) {
  const serving = model();
  try {
    return await call(serving);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || serving === cpu) throw e;
    dropGpu(`WebGPU failed while ${what} (${e.message ?? e}); switched to the CPU`);
    postMessage({ ...backendInfo(), settled: true, lost: true });
    return await call(cpu);
  }
}

const decode = (what, points) => guarded(what, (m) => m.decodeBatch(points));

/** The operations the page can ask for; each returns `[value, transferables]`. */
const ops = {
  async encode({ rgba, width, height }) {
    const e = await guarded('encoding the drawing', (m) =>
      m.encodeDrawing(new Uint8Array(rgba), width, height));
    const nearest = wasm.nearestLabels(latents.points, latents.labels, e.mean[0], e.mean[1], NEAREST);
    const value = { ...e, nearest: Array.from(nearest), nearestK: NEAREST };
    return [value, [e.input.buffer, e.reconstruction.buffer]];
  },
  async encodeImage({ image }) {
    const e = await guarded('encoding', (m) => m.encodeImage(new Float32Array(image)));
    return [{ ...e }, [e.input.buffer, e.reconstruction.buffer]];
  },
  async decode({ points }) {
    const images = await decode('decoding', new Float32Array(points));
    return [{ images }, [images.buffer]];
  },
  async grid({ grid }) {
    const { x_min, x_max, y_min, y_max } = card.plane;
    const images = await decode('decoding the grid', wasm.gridPoints(x_min, x_max, y_min, y_max, grid));
    return [{ images, grid }, [images.buffer]];
  },
  async sample({ mean, std, n, seed }) {
    const points = wasm.sampleGaussian(mean[0], mean[1], std[0], std[1], n, seed);
    const images = await decode('decoding samples', points);
    const rings = Array.from(wasm.countByRadius(points));
    return [{ points, images, rings }, [images.buffer]];
  },
  async interpolate({ a, b, frames }) {
    const points = wasm.interpolate(a[0], a[1], b[0], b[1], frames);
    const images = await decode('decoding the interpolation', points);
    return [{ points, images }, [images.buffer]];
  },
  async scatter({ size, dpr }) {
    const side = Number(size);
    const density = Number(dpr);
    if (!(side >= 16 && side <= 4096 && density >= 0.5 && density <= 4)) {
      throw new ModelError('bad-input', `a scatter of ${size} px at ${dpr}× is out of range`);
    }
    const bitmap = renderScatter(latents, card.plane, wasm.digitColours(), side, density);
    return [{ bitmap }, [bitmap]];
  },
  async nearest({ z, k }) {
    return [{ counts: Array.from(wasm.nearestLabels(latents.points, latents.labels, z[0], z[1], k)) }, []];
  },
  /** Switches backend; WebGPU's module is fetched and attached first if it is not yet. */
  async setBackend({ name }) {
    if (name !== 'cpu' && name !== 'webgpu') throw new ModelError('bad-input', `unknown backend ${name} (webgpu or cpu)`);
    if (name === 'webgpu' && !gpu) {
      if (webgpu === 'lost' || webgpu === 'unavailable') {
        throw new ModelError('webgpu-unavailable', backendReason || 'WebGPU is not available');
      }
      backendReason = 'starting WebGPU…';
      postMessage(backendInfo());
      if (!(await attachWebgpu())) {
        postMessage({ ...backendInfo(), settled: true });
        throw new ModelError('webgpu-unavailable', backendReason);
      }
    }
    active = name;
    backendReason = 'chosen by you';
    postMessage({ ...backendInfo(), settled: true });
    return [{ backend: active }, []];
  },
  /** The wasm modules' linear memory, in bytes (it grows and never shrinks: a leak shows). */
  async memory() {
    const size = (m) => m?.buffer.byteLength ?? null;
    return [{ cpu: size(memories.cpu), webgpu: size(memories.webgpu) }, []];
  },
  /** Test hook: the worker dies as it would on a wasm trap. */
  async crash() {
    setTimeout(() => { throw new Error('worker stopped on request (test hook)'); });
    return [{}, []];
  },
  /** Test hook: destroys the WebGPU device, as a driver reset would lose it. */
  async loseDevice() {
    if (!gpuDevice) throw new ModelError('webgpu-unavailable', 'no WebGPU device to lose');
    gpuDevice.destroy();
    return [{}, []];
  },
};

async function call({ id, op, args }) {
  try {
    await loaded;
    const handler = ops[op];
    if (!handler) throw new ModelError('bad-input', `unknown operation ${op}`);
    const [value, transfer] = await handler(args ?? {});
    postMessage({ type: 'result', id, value }, transfer);
  } catch (e) {
    postMessage({ type: 'error', id, error: errorValue(e) });
    // A trap leaves the wasm instance broken: die, so that the page starts a fresh worker.
    if (e instanceof WebAssembly.RuntimeError) setTimeout(() => { throw e; });
  }
}

self.onmessage = async ({ data }) => {
  if (data.type === 'call') {
    call(data);
  } else if (data.type === 'load') {
    if (data.stallMs > 0) stallMs = data.stallMs;
    try {
      await load(new URL(data.wwwDir), data.model, data.custom);
      postMessage({
        type: 'loaded',
        index,
        model: modelId,
        card,
        latents: { points: latents.points, labels: latents.labels },
        colours: Array.from(wasm.digitColours()),
        manifoldGrid: wasm.manifoldGrid(),
      });
      postMessage(backendInfo());
      markLoaded.resolve();
    } catch (e) {
      markLoaded.reject(e);
      postMessage({ type: 'load-failed', error: errorValue(e) });
      return;
    }
    try {
      await settleBackend(data.backend);
    } catch (e) {
      postMessage({ type: 'error', id: null, error: errorValue(e) });
      if (e instanceof WebAssembly.RuntimeError) setTimeout(() => { throw e; });
    }
  }
};
