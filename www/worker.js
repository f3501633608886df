// The model worker: loads the wasm module and the model, brings up WebGPU and picks the faster
// backend by measuring, and answers the page's requests (encode, decode, grid, samples,
// interpolation, nearest digits). The page's main thread only handles input and draws.
//
// Messages in:  {type: 'load', wwwDir, model, backend}  (model: an id of models.json or null
//               for its default; backend: 'cpu' | 'webgpu' | null)
//               {type: 'call', id, op, args}
// Messages out: {type: 'loaded', index, model, card, latents, colours, manifoldGrid}
//               {type: 'backend', backend, reason, webgpu, adapter}
//               {type: 'result', id, value} | {type: 'error', id, error: {kind, message}}
//               {type: 'load-failed', error}
// A wasm trap (a panic, an out-of-memory) leaves the module unusable: the worker then throws
// it uncaught, the page sees the worker die and starts a new one.

import init, {
  Model, cardFileName, countByRadius, digitColours, gridPoints, indexFileName, interpolate,
  manifoldGrid, nearestLabels, readLatents, readModelIndex, sampleGaussian,
} from './pkg/vae_web.js';
import { medianMs } from './measure.js';
import { ModelError, errorValue } from './protocol.js';
import { renderScatter } from './scatter.js';

const CALIBRATION_GRID = 10;
/** Test digits counted around a drawing's μ ("nearest 20: 9 ×12, 4 ×8"). */
const NEAREST = 20;

let model = null;
let index = null;
let modelId = null;
let card = null;
let latents = null;
let backendReason = '';
/** Settles when the model is loaded: calls that arrive earlier (after a restart) wait for it. */
let markLoaded;
const loaded = new Promise((resolve, reject) => { markLoaded = { resolve, reject }; });
loaded.catch(() => {});

async function fetchBytes(dir, name) {
  const url = new URL(name, dir);
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ModelError('fetch', `could not fetch ${url.pathname}: ${e.message}`);
  }
  if (!response.ok) {
    throw new ModelError('fetch', `model file ${url.pathname} is missing (HTTP ${response.status})`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Reads models.json and picks the model `wanted` (its default when null or unknown). */
async function chooseModel(wwwDir, wanted) {
  const text = new TextDecoder().decode(await fetchBytes(wwwDir, indexFileName()));
  index = JSON.parse(readModelIndex(text));
  const entry = index.models.find((m) => m.id === wanted) ?? index.models.find((m) => m.id === index.default);
  modelId = entry.id;
  return new URL(entry.dir, wwwDir);
}

async function load(wwwDir, wanted) {
  try {
    await init();
  } catch (e) {
    throw new ModelError('bad-model', `The WebAssembly module failed to load (${e.message ?? e}). ` +
      'Was it built? The README\'s first command builds it.');
  }
  const modelDir = await chooseModel(wwwDir, wanted);
  const cardText = new TextDecoder().decode(await fetchBytes(modelDir, cardFileName()));
  let parsed;
  try {
    parsed = JSON.parse(cardText);
  } catch (e) {
    throw new ModelError('bad-model', `model file ${cardFileName()} is not valid JSON: ${e.message}`);
  }
  const files = parsed.files ?? {};
  if (typeof files.weights !== 'string' || typeof files.latents !== 'string') {
    throw new ModelError('bad-model', `model file ${cardFileName()} does not name the weights and latents files`);
  }
  const [weights, latentBytes] = await Promise.all([
    fetchBytes(modelDir, files.weights),
    fetchBytes(modelDir, files.latents),
  ]);
  latents = readLatents(latentBytes);
  model = Model.load(cardText, weights);
  card = JSON.parse(model.cardJson);
}

function backendInfo() {
  return {
    type: 'backend',
    backend: model.backend,
    reason: backendReason,
    webgpu: model.webgpuState,
    adapter: model.adapterName,
  };
}

/** Times a grid decode on both backends and keeps the faster (WebGPU may be a software
 *  adapter, far slower than the CPU for this small model). Returns the reason shown. */
async function calibrate() {
  const { x_min, x_max, y_min, y_max } = card.plane;
  const pts = gridPoints(x_min, x_max, y_min, y_max, CALIBRATION_GRID);
  const time = (backend) => medianMs(() => model.decodeBatchOn(backend, pts), 3);
  const cpu = await time('cpu');
  const gpu = await time('webgpu');
  const adapter = model.adapterName || 'the WebGPU adapter';
  const n = CALIBRATION_GRID * CALIBRATION_GRID;
  const ms = (t) => `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`;
  if (gpu < cpu) {
    model.setBackend('webgpu');
    return `measured faster: ${n} decodes in ${ms(gpu)} on ${adapter} vs ${ms(cpu)} on the CPU`;
  }
  model.setBackend('cpu');
  const soft = model.adapterIsFallback ? ' (a software adapter)' : '';
  return `measured faster: ${n} decodes in ${ms(cpu)} on the CPU vs ${ms(gpu)} on ${adapter}${soft}`;
}

/** Brings up WebGPU beside the CPU (which serves meanwhile) and settles on a backend. */
async function settleBackend(forced) {
  if (!('gpu' in navigator)) {
    backendReason = 'this browser has no WebGPU';
  } else if (forced === 'cpu') {
    backendReason = 'the CPU was requested (by the link or ?backend=cpu)';
  } else {
    backendReason = 'starting WebGPU…';
    postMessage(backendInfo());
    if (!(await model.attachWebgpu())) {
      backendReason = `WebGPU unavailable: ${model.webgpuReason}`;
    } else if (forced === 'webgpu') {
      model.setBackend('webgpu');
      backendReason = 'WebGPU was requested (by the link or ?backend=webgpu)';
    } else {
      try {
        backendReason = await calibrate();
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) throw e;
        model.disableWebgpu();
        backendReason = `WebGPU failed while calibrating (${e.message ?? e}); the CPU runs`;
      }
    }
  }
  postMessage({ ...backendInfo(), settled: true });
}

/** Runs a model call; a failure on WebGPU (other than a trap) switches to the CPU and retries. */
async function guarded(what, call) {
  try {
    return await call();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || model.backend !== 'webgpu') throw e;
    model.disableWebgpu();
    backendReason = `WebGPU failed while ${what} (${e.message ?? e}); switched to the CPU`;
    postMessage(backendInfo());
    return await call();
  }
}

const decode = (what, points) => guarded(what, () => model.decodeBatch(points));

/** The operations the page can ask for; each returns `[value, transferables]`. */
const ops = {
  async encode({ rgba, width, height }) {
    const e = await guarded('encoding the drawing', () =>
      model.encodeDrawing(new Uint8Array(rgba), width, height));
    const nearest = nearestLabels(latents.points, latents.labels, e.mean[0], e.mean[1], NEAREST);
    const value = { ...e, nearest: Array.from(nearest), nearestK: NEAREST };
    return [value, [e.input.buffer, e.reconstruction.buffer]];
  },
  async encodeImage({ image }) {
    const e = await guarded('encoding', () => model.encodeImage(new Float32Array(image)));
    return [{ ...e }, [e.input.buffer, e.reconstruction.buffer]];
  },
  async decode({ points }) {
    const images = await decode('decoding', new Float32Array(points));
    return [{ images }, [images.buffer]];
  },
  async grid({ grid }) {
    const { x_min, x_max, y_min, y_max } = card.plane;
    const images = await decode('decoding the grid', gridPoints(x_min, x_max, y_min, y_max, grid));
    return [{ images, grid }, [images.buffer]];
  },
  async sample({ mean, std, n, seed }) {
    const points = sampleGaussian(mean[0], mean[1], std[0], std[1], n, seed);
    const images = await decode('decoding samples', points);
    const rings = Array.from(countByRadius(points));
    return [{ points, images, rings }, [images.buffer]];
  },
  async interpolate({ a, b, frames }) {
    const points = interpolate(a[0], a[1], b[0], b[1], frames);
    const images = await decode('decoding the interpolation', points);
    return [{ points, images }, [images.buffer]];
  },
  async scatter({ size, dpr }) {
    const side = Number(size);
    const density = Number(dpr);
    if (!(side >= 16 && side <= 4096 && density >= 0.5 && density <= 4)) {
      throw new ModelError('bad-input', `a scatter of ${size} px at ${dpr}× is out of range`);
    }
    const bitmap = renderScatter(latents, card.plane, digitColours(), side, density);
    return [{ bitmap }, [bitmap]];
  },
  async nearest({ z, k }) {
    return [{ counts: Array.from(nearestLabels(latents.points, latents.labels, z[0], z[1], k)) }, []];
  },
  async setBackend({ name }) {
    model.setBackend(name);
    backendReason = 'chosen by you';
    postMessage(backendInfo());
    return [{ backend: model.backend }, []];
  },
  /** Test hook: the worker dies as it would on a wasm trap. */
  async crash() {
    setTimeout(() => { throw new Error('worker stopped on request (test hook)'); });
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
    try {
      await load(new URL(data.wwwDir), data.model);
      postMessage({
        type: 'loaded',
        index,
        model: modelId,
        card,
        latents: { points: latents.points, labels: latents.labels },
        colours: Array.from(digitColours()),
        manifoldGrid: manifoldGrid(),
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
