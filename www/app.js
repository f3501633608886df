// Latent Canvas: loads the wasm module and the exported model, picks the faster backend by
// measuring, and wires the drawing pad, the latent plane and the decoded view together.
// All model logic (preprocessing, encoding, decoding, file formats) runs in Rust.

import init, { Model, cardFileName, digitColours, readLatents } from './pkg/vae_web.js';
import { DrawingPad } from './draw.js';
import { LatentPlane } from './plane.js';
import { clearImage, drawImage } from './images.js';
import { gridPoints, medianMs } from './measure.js';

const $ = (id) => document.getElementById(id);
const MODEL_DIR = new URL('./model/', import.meta.url);
const MANIFOLD_GRID = 20;
const CALIBRATION_GRID = 10;

/** The page's state, also read by the end-to-end tests. */
const app = {
  model: null,
  card: null,
  plane: null,
  pad: null,
  backendReason: '',
  timings: { encode: null, decode: null },
  lastEncoded: null,
  lastPick: null,
  lastDecoded: null,
  ready: false,
};
window.latentCanvas = app;

/** Shows an error in the page (never only in the console). */
function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

async function fetchBytes(name) {
  const url = new URL(name, MODEL_DIR);
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url.pathname}: ${e.message}`);
  }
  if (!response.ok) throw new Error(`model file ${url.pathname} is missing (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Coalesces calls to one run per animation frame, at most one in flight; the task reads the
 *  latest input when it runs, so no stale work is ever queued. */
function coalesced(task) {
  let pending = false;
  let running = false;
  const run = async () => {
    if (running || !pending) return;
    pending = false;
    running = true;
    try {
      await task();
    } finally {
      running = false;
      if (pending) requestAnimationFrame(run);
    }
  };
  return () => {
    if (!pending) {
      pending = true;
      if (!running) requestAnimationFrame(run);
    }
  };
}

/** Runs a model call; a failure on WebGPU switches to the CPU and retries once. */
async function guarded(what, call) {
  try {
    return await call();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      const onGpu = app.model && app.model.backend === 'webgpu';
      showError(`The model stopped while ${what} (${e.message}).` +
        (onGpu ? ' Reload with ?backend=cpu to run on the CPU.' : ' Reload the page to start again.'));
      app.ready = false;
      throw e;
    }
    if (app.model && app.model.backend === 'webgpu') {
      app.model.disableWebgpu();
      app.backendReason = `WebGPU failed while ${what} (${e.message ?? e}); switched to the CPU`;
      showError(app.backendReason);
      renderStatus();
      return await call();
    }
    throw e;
  }
}

function ms(t) {
  return t === null ? '–' : `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`;
}

function renderStatus() {
  const m = app.model;
  const name = m.backend === 'webgpu' ? 'WebGPU' : 'CPU (burn-flex)';
  $('status').textContent = `Backend: ${name} — ${app.backendReason}`;
  const select = $('backend');
  select.value = m.backend;
  select.querySelector('option[value="webgpu"]').disabled = m.webgpuStatus !== 'available';
  select.disabled = false;
  $('timings').textContent = `encode ${ms(app.timings.encode)} · decode ${ms(app.timings.decode)}`;
}

function renderCard(card) {
  const m = card.metrics;
  const arch = card.architecture;
  const decoder = arch.decoder_hidden ?? [...arch.hidden].reverse();
  const parts = [
    `Model: ${card.dataset.name}, ${card.training.epochs} epochs` +
      (card.training.validation ? ` (kept epoch ${card.training.validation.epoch}, chosen on ${card.training.validation.images} held-out images)` : '') +
      `, MLP ${arch.hidden.join('-')} → z ∈ ℝ${arch.latent} → ${decoder.join('-')}`,
    `test negative ELBO ${m.neg_elbo.toFixed(1)} nats (reconstruction ${m.recon.toFixed(1)} + KL ${m.kl.toFixed(1)})`,
  ];
  if (m.iw_nll != null) {
    parts.push(`importance-weighted bound (k = ${m.iw_samples}) ${m.iw_nll.toFixed(1)} nats`);
  }
  if (m.kl_per_dim?.length) {
    parts.push(`KL per dimension ${m.kl_per_dim.map((v) => v.toFixed(2)).join(' / ')}, ` +
      `${m.active_units} of ${arch.latent} units active`);
  }
  parts.push(`5-NN accuracy of μ ${(100 * m.knn5_acc).toFixed(1)} %`);
  $('card').textContent = `${parts.join('; ')}. Weights ${card.files.weights_storage}, ` +
    `${(card.files.weights_bytes / 1024).toFixed(0)} KiB.`;
}

function renderLegend(colours) {
  const legend = $('legend');
  colours.forEach((colour, digit) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.backgroundColor = colour;
    li.append(swatch, String(digit));
    legend.append(li);
  });
}

/** Times a grid decode on both backends and keeps the faster (WebGPU may be a software
 *  adapter, far slower than the CPU for this small model). Returns the reason shown. */
async function calibrate(model, extent) {
  const pts = gridPoints(extent, CALIBRATION_GRID);
  const time = (backend) => medianMs(() => model.decodeBatchOn(backend, pts), 3);
  const cpu = await time('cpu');
  const gpu = await time('webgpu');
  const adapter = model.adapterName || 'the WebGPU adapter';
  const n = CALIBRATION_GRID * CALIBRATION_GRID;
  if (gpu < cpu) {
    model.setBackend('webgpu');
    return `measured faster: ${n} decodes in ${ms(gpu)} on ${adapter} vs ${ms(cpu)} on the CPU`;
  }
  model.setBackend('cpu');
  const soft = model.adapterIsFallback ? ' (a software adapter)' : '';
  return `measured faster: ${n} decodes in ${ms(cpu)} on the CPU vs ${ms(gpu)} on ${adapter}${soft}`;
}

/** Brings up WebGPU beside the CPU (which serves meanwhile) and settles on a backend. */
async function settleBackend(model, extent) {
  const forced = new URLSearchParams(location.search).get('backend');
  if (!('gpu' in navigator)) {
    app.backendReason = 'this browser has no WebGPU';
  } else if (forced === 'cpu') {
    app.backendReason = 'CPU requested in the URL (?backend=cpu)';
  } else {
    app.backendReason = 'starting WebGPU…';
    renderStatus();
    if (!(await model.attachWebgpu())) {
      // The full error goes in the tooltip; the line shows its gist.
      const full = model.webgpuStatus;
      $('status').title = full;
      app.backendReason = /no adapters?|no suitable graphics adapter/i.test(full)
        ? 'WebGPU unavailable: the browser offers no adapter'
        : `WebGPU unavailable: ${full.length > 120 ? `${full.slice(0, 117)}…` : full}`;
    } else if (forced === 'webgpu') {
      model.setBackend('webgpu');
      app.backendReason = 'WebGPU requested in the URL (?backend=webgpu)';
    } else {
      try {
        app.backendReason = await calibrate(model, extent);
      } catch (e) {
        model.disableWebgpu();
        app.backendReason = `WebGPU failed while calibrating (${e.message ?? e}); the CPU runs`;
      }
    }
  }
  renderStatus();
  document.body.dataset.backend = model.backend;
}

async function main() {
  try {
    await init();
  } catch (e) {
    throw new Error(`The WebAssembly module failed to load (${e.message ?? e}). ` +
      'Was it built? The README\'s first command builds it.');
  }
  const cardText = new TextDecoder().decode(await fetchBytes(cardFileName()));
  let card;
  try {
    card = JSON.parse(cardText);
  } catch (e) {
    throw new Error(`model file ${cardFileName()} is not valid JSON: ${e.message}`);
  }
  const files = card.files ?? {};
  if (typeof files.weights !== 'string' || typeof files.latents !== 'string') {
    throw new Error(`model file ${cardFileName()} does not name the weights and latents files`);
  }
  const [weights, latentBytes] = await Promise.all([
    fetchBytes(files.weights),
    fetchBytes(files.latents),
  ]);
  const latents = readLatents(latentBytes);
  const model = Model.load(cardText, weights);
  app.model = model;
  app.card = JSON.parse(model.cardJson);
  renderCard(app.card);
  const colours = digitColours();
  renderLegend(colours);
  app.backendReason = 'the CPU serves while WebGPU is checked';
  renderStatus();

  const encode = coalesced(async () => {
    if (!app.pad.inked) return;
    const { data, width, height } = app.pad.pixels();
    const t0 = performance.now();
    let e;
    try {
      e = await guarded('encoding the drawing', () => model.encodeDrawing(new Uint8Array(data.buffer), width, height));
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) showError(`Encoding failed: ${err.message ?? err}`);
      return;
    }
    app.timings.encode = performance.now() - t0;
    app.lastEncoded = e;
    drawImage($('input28'), e.input);
    drawImage($('reconstruction'), e.reconstruction);
    app.plane.setPosterior({ mean: e.mean, std: e.std });
    $('encoding').textContent =
      `μ = (${e.mean[0].toFixed(2)}, ${e.mean[1].toFixed(2)}), σ = (${e.std[0].toFixed(3)}, ${e.std[1].toFixed(3)})`;
    renderStatus();
  });

  let wanted = null;
  const decode = coalesced(async () => {
    const z = wanted;
    const t0 = performance.now();
    let image;
    try {
      image = await guarded('decoding', () => model.decode(z[0], z[1]));
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) showError(`Decoding failed: ${err.message ?? err}`);
      return;
    }
    app.timings.decode = performance.now() - t0;
    app.lastPick = z;
    app.lastDecoded = image;
    drawImage($('decoded'), image);
    $('z').textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
    renderStatus();
  });

  app.pad = new DrawingPad($('draw'), encode);
  app.plane = new LatentPlane($('plane'), app.card.plane, latents, colours, (z) => {
    wanted = z;
    app.plane.setPick(z);
    decode();
  });

  $('clear').addEventListener('click', () => {
    app.pad.clear();
    app.lastEncoded = null;
    clearImage($('input28'));
    clearImage($('reconstruction'));
    app.plane.setPosterior(null);
    $('encoding').textContent = '';
  });
  $('backend').addEventListener('change', (e) => {
    try {
      model.setBackend(e.target.value);
      app.backendReason = 'chosen by you';
      clearError();
    } catch (err) {
      showError(err.message ?? String(err));
    }
    renderStatus();
  });
  const manifold = $('manifold');
  manifold.addEventListener('change', async () => {
    if (manifold.checked && !app.plane.manifold) {
      try {
        const images = await guarded('decoding the grid', () =>
          model.decodeBatch(gridPoints(app.card.plane, MANIFOLD_GRID)));
        app.plane.setManifold(images, MANIFOLD_GRID);
      } catch (err) {
        if (!(err instanceof WebAssembly.RuntimeError)) showError(`Decoding the grid failed: ${err.message ?? err}`);
        manifold.checked = false;
        return;
      }
    }
    app.plane.setShowManifold(manifold.checked);
  });
  for (const id of ['input28', 'reconstruction', 'decoded']) clearImage($(id));
  app.ready = true;
  document.body.dataset.ready = 'true';
  await settleBackend(model, app.card.plane);
}

main().catch((e) => {
  showError(e.message ?? String(e));
  $('status').textContent = 'The model could not be loaded.';
  document.body.dataset.ready = 'error';
});
