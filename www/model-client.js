// The page's side of the model worker: typed requests with transferable buffers, latest-wins
// per kind of request, errors as ModelError values, and one restart if the worker dies.

import { Latest } from './latest.js';
import { ModelError, PendingCalls, fromErrorValue } from './protocol.js';

/** Restarts allowed after a worker death; a death beyond them is shown, not hidden. */
const RESTARTS = 1;

export class ModelClient {
  /**
   * @param {object} o
   * @param {URL} o.wwwDir the folder of models.json and the model folders
   * @param {string|null} o.model the model's id in models.json (null: its default)
   * @param {string|null} o.backend a backend forced by the URL, or null
   * @param {number|null} o.stallMs how long a download may receive nothing (null: the default)
   * @param {(info: object) => void} o.onBackend the backend in use changed (or its reason)
   * @param {(error: ModelError) => void} o.onRestart the worker died and a new one is loading
   * @param {() => void} o.onRestarted the new worker is ready (re-send what the page shows)
   * @param {(error: ModelError) => void} o.onDead the worker died again: the model is gone
   */
  constructor(o) {
    this.options = o;
    this.restarts = 0;
    this.calls = new PendingCalls();
    this.oneOffs = 0;
    this.channels = new Map();
    this.worker = null;
    this.dead = false;
  }

  /** Starts the worker and loads the model; resolves to
   *  `{index, model, card, latents, colours, manifoldGrid}`. */
  start() {
    this.worker?.terminate(); // after a failed load, the next try starts afresh
    this.dead = false;
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    return new Promise((resolve, reject) => {
      this.loading = { resolve, reject };
      this.worker.onmessage = ({ data }) => this.receive(data);
      this.worker.onerror = (e) => {
        e.preventDefault();
        this.died(new ModelError('worker-died', e.message || 'the model worker stopped'));
      };
      this.worker.onmessageerror = () =>
        this.died(new ModelError('worker-died', 'a message from the model worker could not be read'));
      this.worker.postMessage({
        type: 'load',
        wwwDir: String(this.options.wwwDir),
        model: this.options.model,
        custom: this.options.custom?.id === this.options.model ? this.options.custom : null,
        backend: this.options.backend,
        stallMs: this.options.stallMs ?? null,
      });
    });
  }

  receive(data) {
    switch (data.type) {
      case 'loaded':
        this.loading?.resolve(data);
        this.loading = null;
        break;
      case 'load-failed':
        this.loading?.reject(fromErrorValue(data.error));
        this.loading = null;
        break;
      case 'backend':
        this.options.onBackend(data);
        break;
      case 'result':
      case 'error': {
        // An error no call waits for is the backend's (a failed switch, a lost device).
        if (!this.calls.settle(data) && data.type === 'error') {
          this.options.onBackend({ error: fromErrorValue(data.error) });
        }
        break;
      }
      default:
        break;
    }
  }

  died(error) {
    if (this.dead) return;
    this.worker?.terminate();
    this.calls.rejectAll(error);
    if (this.loading) {
      this.loading.reject(error);
      this.loading = null;
      this.dead = true;
      return;
    }
    if (this.restarts >= RESTARTS) {
      this.dead = true;
      this.options.onDead(error);
      return;
    }
    this.restarts += 1;
    this.options.onRestart(error);
    this.start().then(
      () => this.options.onRestarted(),
      (e) => {
        this.dead = true;
        this.options.onDead(e);
      },
    );
  }

  /**
   * Switches to the model `id` of models.json, or to `custom`, a model the page holds
   * (`{id, name, about, card, weights, latents}`; kept, so that `id` can be switched back to):
   * a fresh worker loads it (and brings up its own WebGPU), the old one stops; requests still
   * open resolve to null. Not a death: the restart allowance is untouched. Resolves like
   * `start()`.
   */
  async switchModel(id, custom = null) {
    const old = this.worker;
    old.onerror = null;
    old.onmessage = null;
    old.terminate();
    this.calls.rejectAll(new ModelError('superseded', 'the model was switched'));
    for (const latest of this.channels.values()) latest.close();
    this.channels.clear();
    this.options.model = id;
    if (custom) this.options.custom = custom;
    return this.start();
  }

  /** Sends one call now (counted in `busy()` as 'call' until it settles); resolves to its value. */
  call(op, args = {}, transfer = []) {
    this.oneOffs += 1;
    const settled = () => { this.oneOffs -= 1; };
    const result = this.send(op, args, transfer);
    result.then(settled, settled);
    return result;
  }

  /** Sends one message to the worker; resolves to the reply's value. */
  send(op, args = {}, transfer = []) {
    if (this.dead) return Promise.reject(new ModelError('worker-died', 'the model worker has stopped'));
    return this.calls.send(this.worker, op, args, transfer);
  }

  /**
   * A latest-wins request on `channel` (e.g. 'encode', 'pick'): `make()` runs when the request
   * is sent and returns `{op, args, transfer}`. Resolves to the value, or null if a newer request
   * on the channel replaced this one before it was sent.
   */
  request(channel, make) {
    let latest = this.channels.get(channel);
    if (!latest) {
      latest = new Latest(({ op, args, transfer }) => this.send(op, args, transfer));
      this.channels.set(channel, latest);
    }
    return latest.submit(make);
  }

  /** The kinds of request with one in flight or waiting: the channels' names, and 'call' while
   *  a one-off call (a backend switch, say) is open. */
  busy() {
    const names = [...this.channels].filter(([, l]) => !l.idle).map(([name]) => name);
    return this.oneOffs > 0 ? [...names, 'call'] : names;
  }

  /** Test hook: makes the worker die as a wasm trap would. */
  crash() {
    return this.call('crash').catch(() => {});
  }
}
