// Accessibility: axe-core (a test dependency, never fetched by the page) finds no violation of
// WCAG 2.x level A or AA, on the page as it opens and with everything it can show on screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SEVEN, planeAt, ready, stroke, waitState, withPage } from './harness.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

async function violations(page) {
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('no WCAG A or AA violation, before and after using every part of the page', async (t) => {
  // axe is injected as a script, which the page's CSP would refuse: bypassed for this test only.
  await withPage(t, { bypassCSP: true }, async (page) => {
    await ready(page);
    await page.addScriptTag({ path: AXE });
    const atStart = await violations(page);
    assert.deepEqual(atStart, [], `at start:\n${atStart.join('\n')}`);
    await stroke(page, SEVEN);
    await waitState(page, 's.encoded !== null && s.busy.length === 0');
    await page.click('#pin');
    await page.click('#sample-region');
    await page.mouse.click(...(await planeAt(page, [1, 1])));
    await page.click('#sample-prior');
    await page.check('#manifold');
    await waitState(page, 's.walk !== null && s.prior !== null && s.region !== null && s.manifold && s.busy.length === 0');
    const inUse = await violations(page);
    assert.deepEqual(inUse, [], `in use:\n${inUse.join('\n')}`);
    console.log('axe-core: 0 violations of WCAG 2.x A/AA, at start and in use');
  });
});
