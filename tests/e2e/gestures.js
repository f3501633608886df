// What a person does on the page, as pointer events: strokes on the drawing pad.

/** Draws a stroke through `points` (fractions of the pad) with pointer events. */
export async function stroke(page, points) {
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** A "7": top bar, then the diagonal. */
export const SEVEN = [[0.25, 0.22], [0.75, 0.22], [0.45, 0.8]];
/** A "1": one vertical stroke. */
export const ONE = [[0.5, 0.15], [0.5, 0.85]];
