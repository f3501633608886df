// The long soak: 10,000 interactions (STEPS), memory printed every 1,000 (EVERY), then the
// growth after the first 1,000 and the renderer's footprint over a blank page's.
//   node tests/e2e/soak.js [SITE_ROOT]     (see scripts/soak.sh)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { growth, soak } from './soak-driver.js';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
const steps = Number(process.env.STEPS ?? 10_000);
const every = Number(process.env.EVERY ?? 1_000);
const t0 = Date.now();
const { blank, samples, counts } = await soak({ root, steps, every, log: console.log });
const g = growth(samples, every);
const pct = (x) => `${(100 * x).toFixed(1)} %`;
console.log(`interactions: ${JSON.stringify(counts)} in ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
console.log(`growth after step ${every}: JS heap ${pct(g.heap)}, wasm ${pct(g.wasm)}, renderer RSS ${pct(g.rss)}`);
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`renderer RSS: blank page ${mb(blank)}, this page ${mb(samples[0].rss)} at the start ` +
  `(+${mb(samples[0].rss - blank)}), ${mb(samples.at(-1).rss)} at the end (+${mb(samples.at(-1).rss - blank)})`);
