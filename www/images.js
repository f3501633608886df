// Drawing 28×28 model images (values in [0, 1], white ink on black) into canvases, pixel for
// pixel: the canvas is 28×28 and CSS scales it up with `image-rendering: pixelated`.

/** Writes `values` (side × side, row-major, in [0, 1]) into an ImageData. */
export function toImageData(values, side) {
  const img = new ImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const g = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
    img.data[4 * i] = g;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  return img;
}

/** Draws one image into a canvas of the same size. */
export function drawImage(canvas, values, side = 28) {
  canvas.getContext('2d').putImageData(toImageData(values, side), 0, 0);
}

/** Clears a 28×28 view to black. */
export function clearImage(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

/** Draws `count` images (784 values each, back to back in `images`) into `canvas` as a grid
 *  `cols` wide, resizing the canvas to fit (28 px per image). */
export function drawStrip(canvas, images, count, cols = count) {
  const rows = Math.max(1, Math.ceil(count / cols));
  canvas.width = cols * 28;
  canvas.height = rows * 28;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < count; k++) {
    ctx.putImageData(toImageData(images.subarray(k * 784, (k + 1) * 784), 28), (k % cols) * 28, Math.floor(k / cols) * 28);
  }
}
