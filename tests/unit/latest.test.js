// Latest-wins requests: one in flight, the newest waiting, the replaced ones resolved to null.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Latest } from '../../www/latest.js';

/** A sender whose jobs finish when the test says so. */
function manualSender() {
  const sent = [];
  const send = (job) => new Promise((resolve, reject) => sent.push({ job, resolve, reject }));
  return { sent, send };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('a request is sent at once when nothing is in flight', async () => {
  const { sent, send } = manualSender();
  const latest = new Latest(send);
  const p = latest.submit(() => 'a');
  assert.deepEqual(sent.map((s) => s.job), ['a']);
  sent[0].resolve('A');
  assert.equal(await p, 'A');
  await tick();
  assert.equal(latest.idle, true);
});

test('while one is in flight, only the newest waits; the replaced resolve to null', async () => {
  const { sent, send } = manualSender();
  const latest = new Latest(send);
  const made = [];
  const make = (v) => () => { made.push(v); return v; };
  const first = latest.submit(make(1));
  const second = latest.submit(make(2));
  const third = latest.submit(make(3));
  assert.equal(await second, null, 'superseded before it was sent');
  assert.deepEqual(made, [1], 'a replaced request is never even built');
  sent[0].resolve('one');
  assert.equal(await first, 'one');
  await tick();
  assert.deepEqual(sent.map((s) => s.job), [1, 3]);
  sent[1].resolve('three');
  assert.equal(await third, 'three');
});

test('an error rejects its own request and the next one still runs', async () => {
  const { sent, send } = manualSender();
  const latest = new Latest(send);
  const bad = latest.submit(() => 'bad');
  const good = latest.submit(() => 'good');
  sent[0].reject(new Error('boom'));
  await assert.rejects(bad, /boom/);
  await tick();
  sent[1].resolve('ok');
  assert.equal(await good, 'ok');
});

test('a make() that throws rejects that request only', async () => {
  const { sent, send } = manualSender();
  const latest = new Latest(send);
  await assert.rejects(latest.submit(() => { throw new Error('no pixels'); }), /no pixels/);
  const p = latest.submit(() => 'x');
  sent[0].resolve('X');
  assert.equal(await p, 'X');
});

test('closing drops the waiting request and every later one', async () => {
  const { sent, send } = manualSender();
  const latest = new Latest(send);
  const inFlight = latest.submit(() => 1);
  const waiting = latest.submit(() => 2);
  latest.close();
  assert.equal(await waiting, null);
  assert.equal(await latest.submit(() => 3), null);
  sent[0].resolve('one');
  assert.equal(await inFlight, 'one', 'what was in flight still settles');
  await tick();
  assert.deepEqual(sent.map((s) => s.job), [1], 'nothing more is sent');
});
