// Errors cross the worker boundary as {kind, message} and come back as ModelError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError, errorValue, fromErrorValue } from '../../www/protocol.js';

test('a kind survives the round trip', () => {
  const e = Object.assign(new Error('nothing is drawn yet'), { kind: 'bad-input' });
  const v = errorValue(e);
  assert.deepEqual(v, { kind: 'bad-input', message: 'nothing is drawn yet' });
  assert.deepEqual(structuredClone(v), v, 'a plain, cloneable value');
  const back = fromErrorValue(v);
  assert.ok(back instanceof ModelError);
  assert.equal(back.kind, 'bad-input');
  assert.equal(back.message, 'nothing is drawn yet');
});

test('a wasm trap is a trap; anything else without a kind is internal', () => {
  assert.equal(errorValue(new WebAssembly.RuntimeError('unreachable')).kind, 'trap');
  assert.equal(errorValue(new TypeError('x is undefined')).kind, 'internal');
  assert.deepEqual(errorValue('plain string'), { kind: 'internal', message: 'plain string' });
  assert.equal(fromErrorValue(undefined).kind, 'internal');
});
