// Timing and grid helpers shared by the page (backend calibration) and the bench page.

/** Median milliseconds of `runs` awaited calls of `f`, after one untimed warm-up call. */
export async function medianMs(f, runs = 5) {
  await f();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

/** Centres of a `grid × grid` tiling of the plane's extent, row-major from the top-left,
 *  as `[x0, y0, x1, y1, …]` (the layout the trainer's manifold figure uses too). */
export function gridPoints(extent, grid) {
  const pts = new Float32Array(grid * grid * 2);
  const dx = (extent.x_max - extent.x_min) / grid;
  const dy = (extent.y_max - extent.y_min) / grid;
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const k = r * grid + c;
      pts[2 * k] = extent.x_min + (c + 0.5) * dx;
      pts[2 * k + 1] = extent.y_max - (r + 0.5) * dy;
    }
  }
  return pts;
}
