/**
 * Non-overlapping window partition of a channel-last feature map, and its inverse (ViTDet / SAM).
 *
 * Legend: B batch, H×W token grid, C channels, ws window size, Hp×Wp padded grid (multiples of ws),
 * nW = (Hp/ws)·(Wp/ws) windows per image, ordered row-major over the window grid.
 */
import { specRequire, type Tensor } from '../tensor';
import { requireInput, requirePositiveInt, requireRank } from '../ops/check';

// MAIN

/**
 * Zero-pad x [B, H, W, C] at the bottom/right to multiples of `windowSize`, then split into windows.
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#window_partition
 * @equation windows[b·nW + wy·(Wp/ws) + wx, i, j, c] = x̃[b, wy·ws + i, wx·ws + j, c], x̃ = x zero-padded to Hp×Wp
 * @deviation none
 * @precision exact
 */
export function windowPartition(x: Tensor, windowSize: number): { windows: Tensor; padHw: [number, number] } {
  const fn = 'windowPartition';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 4);
  requirePositiveInt(fn, 'windowSize', windowSize);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const ws = windowSize;
  const Hp = Math.ceil(H / ws) * ws;
  const Wp = Math.ceil(W / ws) * ws;
  const nWy = Hp / ws;
  const nWx = Wp / ws;
  const out = new Float32Array(B * nWy * nWx * ws * ws * C); // [B·nW, ws, ws, C], padded entries stay 0
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < H; y++) {
      const wy = Math.floor(y / ws);
      const i = y - wy * ws;
      for (let xx = 0; xx < W; xx++) {
        const wx = Math.floor(xx / ws);
        const j = xx - wx * ws;
        const win = (b * nWy + wy) * nWx + wx;
        const dst = ((win * ws + i) * ws + j) * C;
        const src = ((b * H + y) * W + xx) * C;
        out.set(x.data.subarray(src, src + C), dst);
      }
    }
  }
  return { windows: { dtype: 'float32', shape: [B * nWy * nWx, ws, ws, C], data: out }, padHw: [Hp, Wp] };
}

/**
 * Reassemble windows [B·nW, ws, ws, C] into [B, Hp, Wp, C] and crop to [B, H, W, C] (inverse of windowPartition).
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#window_unpartition
 * @equation x[b, y, x, c] = windows[b·nW + ⌊y/ws⌋·(Wp/ws) + ⌊x/ws⌋, y mod ws, x mod ws, c] for y < H, x < W
 * @deviation none
 * @precision exact
 */
export function windowUnpartition(
  windows: Tensor,
  windowSize: number,
  padHw: readonly [number, number],
  hw: readonly [number, number],
): Tensor {
  const fn = 'windowUnpartition';
  requireInput(fn, 'windows', windows);
  requireRank(fn, 'windows', windows, 4);
  requirePositiveInt(fn, 'windowSize', windowSize);
  const ws = windowSize;
  const [Hp, Wp] = padHw;
  const [H, W] = hw;
  specRequire(Number.isInteger(Hp) && Number.isInteger(Wp) && Hp > 0 && Wp > 0 && Hp % ws === 0 && Wp % ws === 0, {
    fn,
    what: 'padHw',
    rule: `be positive multiples of windowSize = ${ws}`,
    got: padHw,
  });
  specRequire(Number.isInteger(H) && Number.isInteger(W) && H >= 1 && W >= 1 && H <= Hp && W <= Wp && Hp - H < ws && Wp - W < ws, {
    fn,
    what: 'hw',
    rule: `be the unpadded size for padHw [${Hp},${Wp}] (Hp − ws < H ≤ Hp, likewise W)`,
    got: hw,
  });
  const [nWin, wsA, wsB, C] = windows.shape as [number, number, number, number];
  specRequire(wsA === ws && wsB === ws, { fn, what: 'windows.shape[1..2]', rule: `be [${ws},${ws}]`, got: windows.shape });
  const nWy = Hp / ws;
  const nWx = Wp / ws;
  specRequire(nWin % (nWy * nWx) === 0, { fn, what: 'windows.shape[0]', rule: `be a multiple of ${nWy * nWx} windows per image`, got: nWin });
  const B = nWin / (nWy * nWx);
  const out = new Float32Array(B * H * W * C); // [B, H, W, C]
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < H; y++) {
      const wy = Math.floor(y / ws);
      const i = y - wy * ws;
      for (let xx = 0; xx < W; xx++) {
        const wx = Math.floor(xx / ws);
        const j = xx - wx * ws;
        const win = (b * nWy + wy) * nWx + wx;
        const src = ((win * ws + i) * ws + j) * C;
        out.set(windows.data.subarray(src, src + C), ((b * H + y) * W + xx) * C);
      }
    }
  }
  return { dtype: 'float32', shape: [B, H, W, C], data: out };
}
