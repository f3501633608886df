// Timing helper shared by the model worker (backend calibration) and the bench page.

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
