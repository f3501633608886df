// The worker client's bookkeeping: what `busy()` reports while calls and channel requests are
// open (the soak and the end-to-end tests wait on it), against a stand-in Worker that answers
// when the test says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';

/** Answers nothing until the test replies to a posted call. */
class HeldWorker {
  static last = null;
  constructor() {
    this.posted = [];
    HeldWorker.last = this;
  }
  postMessage(message) { this.posted.push(message); }
  reply(i, value) {
    const { id } = this.posted[i];
    this.onmessage({ data: { type: 'result', id, value } });
  }
  terminate() {}
}
globalThis.Worker = HeldWorker;
const { ModelClient } = await import('../../www/model-client.js');

function client() {
  const c = new ModelClient({
    wwwDir: new URL('http://localhost/'), model: null, backend: null, stallMs: null,
    onBackend() {}, onRestart() {}, onRestarted() {}, onDead() {},
  });
  c.start();
  const worker = HeldWorker.last;
  worker.onmessage({ data: { type: 'loaded' } });
  return { c, worker };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('a one-off call counts as busy until its answer comes', async () => {
  const { c, worker } = client();
  assert.deepEqual(c.busy(), []);
  const p = c.call('setBackend', { name: 'cpu' });
  assert.deepEqual(c.busy(), ['call']);
  worker.reply(1, 'ok');
  assert.equal(await p, 'ok');
  await tick();
  assert.deepEqual(c.busy(), []);
});

test('a channel request is named in busy, not counted as a call', async () => {
  const { c, worker } = client();
  const p = c.request('encode', () => ({ op: 'encode', args: {}, transfer: [] }));
  assert.deepEqual(c.busy(), ['encode']);
  worker.reply(1, 42);
  assert.equal(await p, 42);
  await tick();
  assert.deepEqual(c.busy(), []);
});

test('a call cut off by a model switch stops counting as busy', async () => {
  const { c } = client();
  const p = c.call('setBackend', { name: 'webgpu' });
  c.switchModel('other');
  await assert.rejects(p, /switched/);
  await tick();
  assert.deepEqual(c.busy(), []);
});
