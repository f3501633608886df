// What crosses the boundary between the page and the model worker: errors as plain values
// (a kind to switch on and a message to show), never strings to match.
//
// Kinds: those of the wasm crate (`bad-input`, `bad-model`, `webgpu-unavailable`, `device`,
// see crates/vae-web/src/error.rs) and the page's own: `fetch` (a model file could not be
// fetched), `trap` (the wasm module stopped: a panic or an out-of-memory), `worker-died`,
// `superseded` (a newer request of the same kind replaced it), `internal`.

/** An error with a kind, rebuilt on the page from what the worker sent. */
export class ModelError extends Error {
  /** @param {string} kind @param {string} message */
  constructor(kind, message) {
    super(message);
    this.name = 'ModelError';
    this.kind = kind;
  }
}

/** The plain value an error crosses the boundary as: `{kind, message}`. */
export function errorValue(e) {
  if (e instanceof WebAssembly.RuntimeError) return { kind: 'trap', message: e.message };
  const kind = typeof e?.kind === 'string' ? e.kind : 'internal';
  return { kind, message: String(e?.message ?? e) };
}

/** The error a `{kind, message}` value stands for. */
export function fromErrorValue(v) {
  return new ModelError(v?.kind ?? 'internal', v?.message ?? 'unknown error');
}

/** Calls sent to a worker as `{type: 'call', id, op, args}` and waiting for its `result` or
 *  `error` reply, by id: the bookkeeping the model client and the Train panel share. */
export class PendingCalls {
  constructor() {
    this.waiting = new Map();
    this.nextId = 1;
  }

  /** Posts one call to `worker`; resolves to the reply's value, rejects with its error. */
  send(worker, op, args = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'call', id, op, args }, transfer);
    });
  }

  /** Settles the call a `result` or `error` message answers; false when none waits for it. */
  settle(message) {
    const call = this.waiting.get(message.id);
    if (!call) return false;
    this.waiting.delete(message.id);
    if (message.type === 'result') call.resolve(message.value);
    else call.reject(fromErrorValue(message.error));
    return true;
  }

  /** Rejects every waiting call with `error`. */
  rejectAll(error) {
    for (const call of this.waiting.values()) call.reject(error);
    this.waiting.clear();
  }
}
