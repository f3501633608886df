// Latent Canvas: the composition root. Starts the model worker (which loads the wasm module
// and the exported model, and picks the faster backend by measuring), then wires the views.
// All model logic (preprocessing, encoding, decoding, sampling, file formats) runs in Rust,
// in the worker; the main thread handles input and draws.

import { ModelClient } from './model-client.js';
import { Explorer } from './explore.js';
import { formatFragment, parseFragment } from './fragment.js';

const $ = (id) => document.getElementById(id);
const WWW_DIR = new URL('./', import.meta.url);

/** Shows an error in the page (never only in the console). */
function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

/** Shows a notice (something the user should know that is not a failure). */
function showNotice(message) {
  const box = $('notice');
  box.textContent = message;
  box.hidden = false;
}

const ms = (t) => (t == null ? '–' : `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`);

/** The status line, the backend menu and the round-trip timings. */
class Status {
  constructor() {
    this.backend = null;
    this.timings = {};
    /** The last 200 round-trip times per kind of request, for benchmarks. */
    this.samples = {};
    /** The backend the user (or a link) chose, kept in links; null: the page's own choice. */
    this.chosen = null;
  }

  setBackend(info) {
    this.backend = info;
    this.render();
    if (info.settled) document.body.dataset.backend = info.backend;
  }

  timing(kind, t) {
    this.timings[kind] = t;
    const kept = (this.samples[kind] ??= []);
    kept.push(t);
    if (kept.length > 200) kept.shift();
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
    // 'offered': a software adapter whose module is fetched only if the user picks it.
    select.querySelector('option[value="webgpu"]').disabled = b.webgpu !== 'available' && b.webgpu !== 'offered';
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
  $('card').textContent = `${parts.join('; ')}. Weights ${weightsLine(card.files)}, ` +
    `${(card.files.weights_bytes / 1024).toFixed(0)} KiB.`;
}

/** How the card says the weights are stored: the storage, and the bit widths of quantised ones. */
function weightsLine(files) {
  const bits = Object.values(files.weights_bits ?? {});
  const ints = bits.filter((b) => b <= 8);
  if (!ints.length) return files.weights_storage;
  const [lo, hi] = [Math.min(...ints), Math.max(...ints)];
  const kept = bits.length - ints.length;
  return `${files.weights_storage} (${lo === hi ? lo : `${lo}–${hi}`} bits a value` +
    `${kept ? `, ${kept} matrix${kept > 1 ? 'es' : ''} f16` : ''})`;
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
function startClient(status, getExplorer, link) {
  const client = new ModelClient({
    wwwDir: WWW_DIR,
    model: link.model ?? null,
    backend: link.backend ?? new URLSearchParams(location.search).get('backend'),
    stallMs: Number(new URLSearchParams(location.search).get('stall-ms')) || null,
    onBackend: (info) => {
      if (info.error) {
        showError(`The model worker reported: ${info.error.message}`);
        return;
      }
      status.setBackend(info);
      if (info.lost) {
        // What the page shows was computed on the lost device: compute it again on the CPU.
        showNotice(`WebGPU stopped working: ${info.reason}. What the page shows was computed again on the CPU.`);
        document.body.dataset.webgpu = 'lost';
        getExplorer()?.refresh();
      }
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
 * - `card`: the card of the model shown;
 * - `state()`: a plain snapshot of what the page shows (see `Explorer.snapshot`);
 * - `decode(z)`: decodes `[x, y]` through the worker, as the page does;
 * - `crashWorker()`: makes the model worker die, as a wasm trap would;
 * - `loseWebgpu()`: destroys the worker's WebGPU device, as a driver reset would lose it;
 * - `timings()`: the last round-trip times through the worker (ms) per kind of request;
 * - `wasmMemory()`: the worker's wasm memories in bytes, `{cpu, webgpu}` (null: not loaded).
 */
function exposeTestSurface(client, explorer, status) {
  window.latentCanvas = Object.freeze({
    get card() { return explorer.card; },
    state: () => explorer.snapshot(),
    decode: async (z) => Array.from((await client.call('decode', { points: z })).images),
    crashWorker: () => client.crash(),
    loseWebgpu: () => client.call('loseDevice'),
    timings: () => structuredClone(status.samples),
    wasmMemory: () => client.call('memory'),
  });
}

/** The model menu, from models.json; a switch keeps the drawing, the pick and A. */
function wireModelMenu(client, explorer, first) {
  const select = $('model');
  let current = first.model;
  const show = (loaded) => {
    const entry = loaded.index.models.find((m) => m.id === loaded.model);
    // A model the page holds (trained here or opened from files) joins the menu when used.
    const option = [...select.options].find((o) => o.value === entry.id);
    if (option) option.textContent = entry.name;
    else select.append(new Option(entry.name, entry.id));
    $('model-about').textContent = entry.about;
    renderCard(loaded.card);
    select.value = loaded.model;
  };
  select.replaceChildren(...first.index.models.map((m) => new Option(m.name, m.id)));
  show(first);
  select.disabled = first.index.models.length < 2;
  const switchTo = async (wanted, custom = null) => {
    select.value = wanted;
    const name = custom?.name ?? select.selectedOptions[0]?.textContent ?? wanted;
    select.disabled = true;
    document.body.dataset.model = 'loading';
    $('status').textContent = `Loading the model “${name}”…`;
    let loaded;
    try {
      loaded = await client.switchModel(wanted, custom);
    } catch (e) {
      // Never a half-loaded model: back to the one that worked.
      showError(`The model “${name}” could not be loaded (${e.message}); the page went back to the previous model.`);
      loaded = await client.switchModel(current);
    }
    current = loaded.model;
    show(loaded);
    await explorer.setModel(loaded);
    select.disabled = false;
    document.body.dataset.model = current;
    return current === wanted;
  };
  select.addEventListener('change', () => switchTo(select.value));
  document.body.dataset.model = current;
  /** Switches the whole page to a model it holds (see ModelClient.switchModel); true when it
   *  loaded, false when the page went back to the previous model (the error is shown). */
  const useModel = (custom) => switchTo(custom.id, custom);
  return { switchTo, useModel };
}

/** The Train panel: its code (www/train.js, and the training module and data it fetches) is
 *  loaded only when the user opens the panel. */
function wireTraining(menu, colours) {
  const panel = $('train-panel');
  let opened = null;
  panel.addEventListener('toggle', () => {
    if (!panel.open || opened) return;
    opened = import('./train.js')
      .then(({ TrainPanel }) => new TrainPanel({ wwwDir: WWW_DIR, colours, useModel: menu.useModel, showError, showNotice }))
      .catch((e) => {
        opened = null;
        showError(`The Train panel could not be loaded (${e.message}); the rest of the page works as before.`);
      });
  });
}

/** Saves a canvas as a PNG file named `name`. */
function savePng(canvas, name) {
  canvas.toBlob((blob) => {
    if (!blob) {
      showError(`Saving ${name} failed: the browser could not encode the image.`);
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
}

/** Keeps the URL's fragment in step with the view, and applies a fragment the user opens. */
function wireLinks(explorer, status, menu) {
  let pending = false;
  let written = location.hash;
  const write = () => {
    pending = false;
    const hash = formatFragment({ ...explorer.view(), backend: status.chosen });
    if (hash !== written) {
      written = hash;
      history.replaceState(null, '', hash || location.pathname + location.search);
    }
  };
  const changed = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(write);
    }
  };
  window.addEventListener('hashchange', async () => {
    if (location.hash === written) return;
    written = location.hash;
    const { view, problems } = parseFragment(location.hash);
    if (problems.length) showNotice(`Parts of the link were not understood and are ignored: ${problems.join(', ')}.`);
    if (view.model && view.model !== explorer.modelId) await menu.switchTo(view.model);
    await applyView(explorer, view);
  });
  $('copy-link').addEventListener('click', async () => {
    write();
    try {
      await navigator.clipboard.writeText(location.href);
      showNotice('A link to this view is on the clipboard.');
    } catch {
      showNotice(`The link to this view: ${location.href}`);
    }
  });
  return changed;
}

/** Restores a view from a link (the model is chosen when the worker starts). */
async function applyView(explorer, view) {
  if (view.grid !== undefined && view.grid !== $('manifold').checked) {
    $('manifold').checked = view.grid;
    await explorer.showGrid(view.grid);
  }
  if (view.pin) explorer.setPin(view.pin, 'from the link');
  if (view.z) await explorer.pickAt(view.z);
}

/**
 * Starts the worker and loads the model; a failure (a stalled or failed download, files that do
 * not fit together after a new deploy) is shown with a Retry button, and retried on its click.
 */
async function firstLoad(client) {
  for (;;) {
    try {
      return await client.start();
    } catch (e) {
      showError(`The model could not be loaded: ${e.message}`);
      $('status').textContent = 'The model could not be loaded.';
      const retry = $('retry');
      retry.hidden = false;
      document.body.dataset.ready = 'retry';
      await new Promise((resolve) => retry.addEventListener('click', resolve, { once: true }));
      retry.hidden = true;
      clearError();
      $('status').textContent = 'Loading the model again…';
      delete document.body.dataset.ready;
    }
  }
}

async function main() {
  const status = new Status();
  const { view: link, problems } = parseFragment(location.hash);
  if (problems.length) showNotice(`Parts of the link were not understood and are ignored: ${problems.join(', ')}.`);
  let explorer = null;
  const client = startClient(status, () => explorer, link);
  const loaded = await firstLoad(client);
  if (link.model && link.model !== loaded.model) {
    showNotice(`The link's model “${link.model}” is not one of this page's; showing “${loaded.model}”.`);
  }
  if (link.backend) status.chosen = link.backend;
  renderLegend(loaded.colours);
  let changed = () => {};
  const report = {
    error: (e, what) => showError(`${what[0].toUpperCase()}${what.slice(1)} failed: ${e.message}`),
    timing: (kind, t) => status.timing(kind, t),
    changed: () => changed(),
  };
  explorer = new Explorer(client, loaded, report);
  const menu = wireModelMenu(client, explorer, loaded);
  changed = wireLinks(explorer, status, menu);
  $('save-plane').addEventListener('click', () => savePng($('plane'), `latent-plane-${loaded.model}.png`));
  $('save-strip').addEventListener('click', () => savePng($('interp-strip'), 'interpolation.png'));
  $('backend').addEventListener('change', async (e) => {
    try {
      await client.call('setBackend', { name: e.target.value });
      status.chosen = e.target.value;
      client.options.backend = e.target.value; // a model switch keeps it
      changed();
      clearError();
    } catch (err) {
      showError(err.message);
      status.render();
    }
  });
  wireTraining(menu, loaded.colours);
  exposeTestSurface(client, explorer, status);
  await applyView(explorer, link);
  changed();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  showError(e.message ?? String(e));
  $('status').textContent = 'The model could not be loaded.';
  document.body.dataset.ready = 'error';
});
