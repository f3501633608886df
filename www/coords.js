// Coordinates between the latent plane and a canvas, and scale bars: pure functions, unit
// tested with node's test runner (tests/unit).

/** Canvas position (in `size`-pixel logical units) of latent point `[x, y]` in `extent`. */
export function toCanvas(extent, size, [x, y]) {
  const { x_min, x_max, y_min, y_max } = extent;
  return [((x - x_min) / (x_max - x_min)) * size, ((y_max - y) / (y_max - y_min)) * size];
}

/** Latent point at fractions `(fx, fy)` of the canvas (clamped to [0, 1], y from the top). */
export function toLatent(extent, fx, fy) {
  const cx = Math.min(1, Math.max(0, fx));
  const cy = Math.min(1, Math.max(0, fy));
  const { x_min, x_max, y_min, y_max } = extent;
  return [x_min + cx * (x_max - x_min), y_max - cy * (y_max - y_min)];
}

/** A round length (1, 2 or 5 × 10ⁿ) no longer than `max`, for a scale bar. */
export function niceLength(max) {
  if (!(max > 0) || !Number.isFinite(max)) return 0;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [5, 2, 1]) if (m * p <= max) return m * p;
  return p;
}

/** The square window a magnifying inset shows around `mean`: half-width `k` σ of the wider
 *  axis, never below `floor` (so a σ of 0 still shows a neighbourhood). */
export function insetExtent(mean, std, k = 3.5, floor = 0.02) {
  const half = Math.max(floor, k * Math.max(std[0], std[1]));
  return { x_min: mean[0] - half, x_max: mean[0] + half, y_min: mean[1] - half, y_max: mean[1] + half };
}

/** `z` moved by an arrow key (`dx`, `dy` in {-1, 0, 1}) by `step`, kept inside `extent`. */
export function stepWithin(extent, z, dx, dy, step) {
  return [
    Math.min(extent.x_max, Math.max(extent.x_min, z[0] + dx * step)),
    Math.min(extent.y_max, Math.max(extent.y_min, z[1] + dy * step)),
  ];
}

/** "9 ×12, 4 ×8": the digits counted in `counts` (index = digit), most frequent first. */
export function formatCounts(counts) {
  return counts
    .map((n, digit) => [digit, n])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .map(([digit, n]) => `${digit} ×${n}`)
    .join(', ');
}
