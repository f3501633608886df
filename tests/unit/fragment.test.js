// Links: the view in the URL's fragment, parsed and formatted; bad parts dropped and named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFragment, parseFragment } from '../../www/fragment.js';

test('a full link round-trips', () => {
  const view = { model: 'kl-off', z: [0.5, -1.25], pin: [1, 0.4], grid: true, backend: 'cpu' };
  const hash = formatFragment(view);
  assert.equal(hash, '#model=kl-off&z=0.50,-1.25&pin=1.00,0.40&grid=1&backend=cpu');
  assert.deepEqual(parseFragment(hash), { view, problems: [] });
});

test('an empty fragment is an empty view', () => {
  assert.deepEqual(parseFragment(''), { view: {}, problems: [] });
  assert.deepEqual(parseFragment('#'), { view: {}, problems: [] });
  assert.equal(formatFragment({}), '');
});

test('bad parts are dropped and named; good ones kept', () => {
  const { view, problems } = parseFragment('#model=../x&z=1,NaN&pin=1e999,0&grid=yes&backend=tpu&evil=1&z=0.25,0.75');
  assert.deepEqual(view, { z: [0.25, 0.75] });
  assert.deepEqual(problems, ['model “../x”', 'z “1,NaN”', 'pin “1e999,0”', 'grid “yes”', 'backend “tpu”', '“evil”']);
  assert.deepEqual(parseFragment('#z=1,2,3').problems, ['z “1,2,3”']);
  assert.deepEqual(parseFragment('#z=500,0').problems, ['z “500,0”'], 'far outside any plane');
  assert.deepEqual(parseFragment('#pin=').problems, ['pin “”']);
});

test('coordinates are rounded to hundredths', () => {
  assert.equal(formatFragment({ z: [0.123456, -2.0001] }), '#z=0.12,-2.00');
});
