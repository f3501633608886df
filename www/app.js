// Latent Canvas: the composition root. Starts the model worker (which loads the wasm module
// and the exported model, and picks the faster backend by measuring), then wires the views.
// All model logic (preprocessing, encoding, decoding, sampling, file formats) runs in Rust,
// in the worker; the main thread handles input and draws.

import { ModelClient } from './model-client.js';
import { Explorer } from './explore.js';

const $ = (id) => document.getElementById(id);
const MODEL_DIR = new URL('./model/', import.meta.url);

/** Shows an error in the page (never only in the console). */
function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

const ms = (t) => (t == null ? '–' : `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`);

/** The status line, the backend menu and the round-trip timings. */
class Status {
  constructor() {
    this.backend = null;
    this.timings = {};
  }

  setBackend(info) {
    this.backend = info;
    this.render();
    if (info.settled) document.body.dataset.backend = info.backend;
  }

  timing(kind, t) {
    this.timings[kind] = t;
    const { encode, pick } = this.timings;
    $('timings').textContent = `round trip through the worker: encode ${ms(encode)} · decode ${ms(pick)}`;
  }

  render() {
    const b = this.backend;
    if (!b) return;
    const name = b.backend === 'webgpu' ? 'WebGPU' : 'CPU (burn-flex)';
    $('status').textContent = `Backend: ${name} — ${b.reason}`;
    const select = $('backend');
    select.value = b.backend;
    select.querySelector('option[value="webgpu"]').disabled = b.webgpu !== 'available';
    select.disabled = false;
  }
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
  legend.replaceChildren();
  colours.forEach((colour, digit) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.backgroundColor = colour;
    li.append(swatch, String(digit));
    legend.append(li);
  });
}

/** The worker client, with what the page does when the worker changes backend or dies. */
function startClient(status, getExplorer) {
  const client = new ModelClient({
    modelDir: MODEL_DIR,
    backend: new URLSearchParams(location.search).get('backend'),
    onBackend: (info) => {
      if (info.error) showError(`The model worker reported: ${info.error.message}`);
      else status.setBackend(info);
    },
    onRestart: (e) => {
      showError(`The model stopped (${e.message}); restarting it…`);
      document.body.dataset.worker = 'restarting';
    },
    onRestarted: () => {
      showError('The model stopped and was restarted; what the page shows was computed again.');
      document.body.dataset.worker = 'restarted';
      getExplorer()?.refresh();
    },
    onDead: (e) => {
      showError(`The model stopped again (${e.message}). Reload the page to start again.`);
      document.body.dataset.worker = 'dead';
      $('status').textContent = 'The model has stopped.';
    },
  });
  return client;
}

/**
 * The page's test surface, read by tests/e2e (nothing else uses it):
 * - `card`: the loaded model card;
 * - `state()`: a plain snapshot of what the page shows (see `Explorer.snapshot`);
 * - `decode(z)`: decodes `[x, y]` through the worker, as the page does;
 * - `crashWorker()`: makes the model worker die, as a wasm trap would.
 */
function exposeTestSurface(client, explorer, card) {
  window.latentCanvas = Object.freeze({
    card,
    state: () => explorer.snapshot(),
    decode: async (z) => Array.from((await client.call('decode', { points: z })).images),
    crashWorker: () => client.crash(),
  });
}

async function main() {
  const status = new Status();
  let explorer = null;
  const client = startClient(status, () => explorer);
  const loaded = await client.start();
  renderCard(loaded.card);
  renderLegend(loaded.colours);
  const report = {
    error: (e, what) => showError(`${what[0].toUpperCase()}${what.slice(1)} failed: ${e.message}`),
    timing: (kind, t) => status.timing(kind, t),
  };
  explorer = new Explorer(client, loaded, report);
  $('backend').addEventListener('change', async (e) => {
    try {
      await client.call('setBackend', { name: e.target.value });
      clearError();
    } catch (err) {
      showError(err.message);
      status.render();
    }
  });
  exposeTestSurface(client, explorer, loaded.card);
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  showError(e.message ?? String(e));
  $('status').textContent = 'The model could not be loaded.';
  document.body.dataset.ready = 'error';
});
