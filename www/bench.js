// Browser benchmark: median encode, single-decode and 30×30-grid-decode latency on the CPU
// backend (the CPU-only module the page starts with) and on WebGPU (the module with WebGPU),
// plus load times; results as a table and as JSON in `window.benchResult` (read by
// scripts/bench-web.sh).

import { medianMs } from './measure.js';

const out = document.getElementById('out');
const runs = Number(new URLSearchParams(location.search).get('runs') ?? 20);
const MODEL_DIR = new URL('./model/', import.meta.url);

async function bytes(name) {
  const r = await fetch(new URL(name, MODEL_DIR));
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Imports and initialises one of the page's two wasm modules (see pkg/modules.json). */
async function wasmModule(which) {
  const pkg = new URL('./pkg/', import.meta.url);
  const modules = await (await fetch(new URL('modules.json', pkg))).json();
  const module = await import(new URL(modules[which], pkg));
  await module.default();
  return module;
}

async function main() {
  const t0 = performance.now();
  const cpuModule = await wasmModule('cpu');
  const wasmMs = performance.now() - t0;
  const cardText = new TextDecoder().decode(await bytes(cpuModule.cardFileName()));
  const card = JSON.parse(cardText);
  const weights = await bytes(card.files.weights);
  const t1 = performance.now();
  const cpu = cpuModule.Model.load(cardText, weights);
  const loadMs = performance.now() - t1;
  const t2 = performance.now();
  let gpu = null;
  if ('gpu' in navigator) {
    const gpuModule = await wasmModule('webgpu');
    gpu = gpuModule.Model.load(cardText, weights);
    if (await gpu.attachWebgpu()) gpu.setBackend('webgpu');
  }
  const webgpuMs = performance.now() - t2;
  const image = new Float32Array(784);
  for (let r = 6; r < 22; r++) image[r * 28 + 14] = 1; // a "1"
  const { x_min, x_max, y_min, y_max } = card.plane;
  const pts = cpuModule.gridPoints(x_min, x_max, y_min, y_max, 30);
  const result = { runs, wasm_init_ms: wasmMs, model_load_ms: loadMs, webgpu_init_ms: webgpuMs, webgpu: gpu?.webgpuState ?? 'no WebGPU', adapter: gpu?.adapterName ?? '', backends: {} };
  for (const [backend, model] of [['cpu', cpu], ['webgpu', gpu]]) {
    if (model?.backend !== backend) continue;
    result.backends[backend] = {
      encode_ms: await medianMs(() => model.encodeImage(image), runs),
      decode_ms: await medianMs(() => model.decode(0.5, -0.5), runs),
      grid_30x30_ms: await medianMs(() => model.decodeBatch(pts), Math.max(3, Math.floor(runs / 4))),
    };
  }
  window.benchResult = result;
  const rows = Object.entries(result.backends).map(([b, r]) =>
    `${b.padEnd(7)} encode ${r.encode_ms.toFixed(2)} ms   decode ${r.decode_ms.toFixed(2)} ms   30×30 grid ${r.grid_30x30_ms.toFixed(1)} ms`);
  out.textContent = [`wasm init ${wasmMs.toFixed(0)} ms, model load ${loadMs.toFixed(0)} ms, WebGPU init ${webgpuMs.toFixed(0)} ms: ${result.webgpu} ${result.adapter}`, ...rows, '', JSON.stringify(result, null, 2)].join('\n');
}

main().catch((e) => {
  window.benchResult = { error: String(e.message ?? e) };
  out.textContent = `benchmark failed: ${e.message ?? e}`;
});
