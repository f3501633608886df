// The browser's WebGPU adapter, as both workers see it: what it is (without starting a device),
// and every device a wasm module asks of it, so that a worker can watch the device for loss.

/** What the browser's WebGPU adapter is, without starting a device: `{name, fallback}` (fallback:
 *  a software adapter, a CPU emulating a GPU), or null when there is none. */
export async function probeAdapter() {
  if (!('gpu' in navigator)) return null;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
    return { name: name || 'a WebGPU adapter', fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) };
  } catch {
    return null;
  }
}

/** Calls `onDevice(device)` with every GPUDevice requested in this worker from now on (the wasm
 *  modules ask for their own). Call once per worker. */
export function watchDevices(onDevice) {
  const request = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function requestDevice(...args) {
    const device = await request.apply(this, args);
    onDevice(device);
    return device;
  };
}
