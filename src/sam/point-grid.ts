/**
 * The regular point grid of SAM's automatic mask generator: n×n points at cell centres, normalised to
 * [0, 1] (x first), and the same grid in the pixel coordinates of an H×W image.
 */
import { specRequire, tensor, type Tensor } from '../tensor';
import { requireImageSize } from './preprocess';

// MAIN

/**
 * n×n points at the centres of an n×n grid over [0, 1]², row-major over y then x, each (x, y).
 * @source SAM-code@dca509f segment_anything/utils/amg.py#build_point_grid
 * @equation p_{i·n+j} = (u_j, u_i),  u = linspace(1/(2n), 1 − 1/(2n), n)  (≈ (k + ½)/n)
 * @deviation none: the values follow NumPy's `linspace` (k·step + start, last = stop) bit for bit,
 *   not (k + ½)/n, which differs in the last bit for some k
 * @precision float64, exact NumPy emulation
 */
export function buildPointGrid(nPerSide: number): Tensor<'float64'> {
  const fn = 'buildPointGrid';
  specRequire(Number.isInteger(nPerSide) && nPerSide >= 1 && nPerSide <= 4096, { fn, what: 'nPerSide', rule: 'be an integer in [1, 4096]', got: nPerSide });
  const n = nPerSide;
  const offset = 1 / (2 * n);
  const u = linspace(offset, 1 - offset, n);
  const out = new Float64Array(n * n * 2); // [n·n, 2]
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[(i * n + j) * 2] = u[j]!; // x
      out[(i * n + j) * 2 + 1] = u[i]!; // y
    }
  }
  return tensor([n * n, 2], out, 'float64');
}

/**
 * SAM's point grid scaled to an H×W image in pixels: (x·W, y·H).
 * @source SAM-code@dca509f segment_anything/automatic_mask_generator.py#SamAutomaticMaskGenerator._process_crop
 *   (points_scale = [W, H]; points_for_image = point_grid · points_scale)
 * @equation P_k = (u_x·W, u_y·H)
 * @deviation none (single crop layer, the uncropped image)
 * @precision float64 product, as NumPy
 */
export function pointGridForImage(nPerSide: number, size: readonly [number, number]): Tensor<'float64'> {
  const fn = 'pointGridForImage';
  requireImageSize(fn, 'size', size);
  const [H, W] = size;
  const grid = buildPointGrid(nPerSide); // [n·n, 2]
  const out = new Float64Array(grid.data.length);
  for (let k = 0; k < out.length; k += 2) {
    out[k] = grid.data[k]! * W;
    out[k + 1] = grid.data[k + 1]! * H;
  }
  return tensor(grid.shape, out, 'float64'); // [n·n, 2]
}

// HELPERS

/** NumPy 1.24 `linspace(start, stop, num)` with endpoint=True, float64. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    for (let k = 0; k < num; k++) y[k] = step === 0 ? (k / div) * delta + start : k * step + start;
    y[num - 1] = stop;
  } else {
    for (let k = 0; k < num; k++) y[k] = k * delta + start;
  }
  return y;
}
