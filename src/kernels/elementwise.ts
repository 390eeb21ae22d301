/**
 * Fast exact data-movement and element-wise ops of the fast backend: add (same shape or suffix
 * broadcast), scale, relu, permute, slice, pad. They are plain JS loops (memory bound; the wasm
 * copy-in/copy-out would cost more than the arithmetic) that replace the reference ops' per-element
 * odometer and broadcast-index arrays with axis-coalesced nested loops over contiguous runs.
 * Results are bit-identical to the reference ops (same IEEE operations, rounded once to float32);
 * every case outside the fast paths, including every invalid input, is handed to the reference op,
 * which therefore also produces the error messages.
 *
 * Legend: n output elements, R outer rows, L inner run length.
 */
import { add, bilinearTaps, interpolateBilinear, pad, permute, relu, scale, slice, type InterpolateBilinearAttrs } from '../ops';
import { numel, stridesOf, type DType, type Tensor } from '../tensor';

// HELPERS

type AnyArray = Tensor<DType>['data'];

/** The default output allocator: a fresh (zeroed) JS array. The fast backend passes its resident-scope allocator. */
const newJsF32 = (n: number): Float32Array => new Float32Array(n);

function isF32(x: Tensor): boolean {
  return x !== null && typeof x === 'object' && x.dtype === 'float32' && x.data instanceof Float32Array && x.shape.every((d) => Number.isInteger(d) && d >= 1) && x.data.length === numel(x.shape);
}

/** Shape without leading 1s. */
function stripOnes(s: readonly number[]): readonly number[] {
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  return s.slice(i);
}

/** True when `suffix` (leading 1s stripped) equals the trailing dims of `full`. */
function isSuffix(full: readonly number[], suffix: readonly number[]): boolean {
  const s = stripOnes(suffix);
  if (s.length > full.length) return false;
  for (let i = 0; i < s.length; i++) if (s[s.length - 1 - i] !== full[full.length - 1 - i]) return false;
  return true;
}

// MAIN

/**
 * `add(a, b)` with the fast paths "same shape" and "one operand broadcasts as a suffix of the other"
 * (e.g. [B, h, N, N] + [h, N, N], [B, L, C] + [1, L, C]); other shapes run the reference op.
 * @source src/ops/add.ts (the definition); NumPy broadcasting
 * @equation out[r·L + j] = a[r·L + j] + b[j] (b the suffix operand, L = numel(b))
 * @deviation none
 * @precision bit-identical to the reference (one fp64 add of two floats, rounded once to float32)
 */
export function fastAdd(a: Tensor, b: Tensor, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(a) || !isF32(b)) return add(a, b);
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (sameShape) {
    const n = ad.length;
    const out = newOut(n);
    for (let i = 0; i < n; i++) out[i] = ad[i]! + bd[i]!;
    return { dtype: 'float32', shape: [...a.shape], data: out };
  }
  // suffix broadcast: big operand keeps its shape as the output shape (its rank must be ≥ the other's)
  const bSuffix = a.shape.length >= b.shape.length && isSuffix(a.shape, b.shape);
  const aSuffix = !bSuffix && b.shape.length >= a.shape.length && isSuffix(b.shape, a.shape);
  if (!bSuffix && !aSuffix) return add(a, b);
  const big = bSuffix ? ad : bd;
  const small = bSuffix ? bd : ad;
  const shape = bSuffix ? a.shape : b.shape;
  const L = small.length;
  const R = big.length / L;
  const out = newOut(big.length);
  // a + b with operands in their original order (addition is commutative in IEEE, but keep it literal)
  for (let r = 0; r < R; r++) {
    const o = r * L;
    if (bSuffix) for (let j = 0; j < L; j++) out[o + j] = big[o + j]! + small[j]!;
    else for (let j = 0; j < L; j++) out[o + j] = small[j]! + big[o + j]!;
  }
  return { dtype: 'float32', shape: [...shape], data: out };
}

/**
 * `scale(x, s)`: out = x·fround(s).
 * @source src/ops/scale.ts (the definition)
 * @equation out[i] = x[i]·fl32(s)
 * @deviation none
 * @precision bit-identical to the reference
 */
export function fastScale(x: Tensor, s: number, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(x) || typeof s !== 'number' || !Number.isFinite(s)) return scale(x, s);
  const sf = Math.fround(s);
  const xd = x.data as Float32Array;
  const n = xd.length;
  const out = newOut(n);
  for (let i = 0; i < n; i++) out[i] = xd[i]! * sf;
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

/**
 * `add(scale(x, s), b)` in one pass (b the same shape as x, or a suffix of it); other shapes run the
 * reference composition.
 * @source src/ops/scale.ts, src/ops/add.ts (the definition)
 * @equation out[r·L + j] = fl32(x[r·L + j]·fl32(s)) + b[j]
 * @deviation none
 * @precision bit-identical to the reference composition (the product is rounded to float32 first, as scale stores it)
 */
export function fastScaleAdd(x: Tensor, s: number, b: Tensor, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(x) || !isF32(b) || typeof s !== 'number' || !Number.isFinite(s) || b.shape.length > x.shape.length || !isSuffix(x.shape, b.shape)) return add(scale(x, s), b);
  const sf = Math.fround(s);
  const xd = x.data as Float32Array;
  const bd = b.data as Float32Array;
  const L = bd.length;
  const R = xd.length / L;
  const out = newOut(xd.length);
  for (let r = 0; r < R; r++) {
    const o = r * L;
    for (let j = 0; j < L; j++) out[o + j] = Math.fround(xd[o + j]! * sf) + bd[j]!;
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

/**
 * `relu(x)`: max(x, 0) with NaN propagated.
 * @source src/ops/relu.ts (the definition)
 * @equation out[i] = x[i] > 0 ? x[i] : (x[i] is NaN ? NaN : 0)
 * @deviation none
 * @precision exact
 */
export function fastRelu(x: Tensor, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(x)) return relu(x);
  const xd = x.data as Float32Array;
  const n = xd.length;
  const out = newOut(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = v > 0 ? v : v !== v ? NaN : 0;
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

/**
 * Coalesce a strided copy: drop size-1 axes and merge adjacent axes where the outer stride equals
 * inner size × inner stride. Returns sizes and strides (source strides per output axis), outermost first.
 */
function coalesce(sizes: number[], strides: number[]): { sizes: number[]; strides: number[] } {
  const s: number[] = [];
  const t: number[] = [];
  for (let d = 0; d < sizes.length; d++) {
    if (sizes[d] === 1) continue;
    const k = s.length - 1;
    if (k >= 0 && t[k] === sizes[d]! * strides[d]!) {
      s[k] = s[k]! * sizes[d]!;
      t[k] = strides[d]!;
    } else {
      s.push(sizes[d]!);
      t.push(strides[d]!);
    }
  }
  if (s.length === 0) return { sizes: [1], strides: [1] };
  return { sizes: s, strides: t };
}

/**
 * Gather `out[o] = src[base + Σ_d pos_d·strides_d]` in output order over `sizes` (outermost first),
 * the innermost axis as a tight loop (or a block copy when its stride is 1).
 */
function stridedCopy(src: AnyArray, base: number, sizes: number[], strides: number[], out: AnyArray, outBase: number, outStrides: number[]): void {
  const rank = sizes.length;
  if (rank >= 2 && strides[rank - 2] === 1 && strides[rank - 1] !== 1 && outStrides[rank - 1] === 1 && sizes[rank - 1]! >= 8 && sizes[rank - 2]! >= 8) {
    blockedTranspose(src, base, sizes, strides, out, outBase, outStrides);
    return;
  }
  const L = sizes[rank - 1]!;
  const sL = strides[rank - 1]!;
  const oL = outStrides[rank - 1]!;
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) rows *= sizes[d]!;
  const pos = new Array<number>(rank).fill(0);
  const c = { s: base, o: outBase };
  const same = src.constructor === out.constructor;
  for (let r = 0; r < rows; r++) {
    const s = c.s, o = c.o;
    if (sL === 1 && oL === 1 && same && L >= 64) (out as Float32Array).set((src as Float32Array).subarray(s, s + L), o);
    else if (sL === 1 && oL === 1) for (let j = 0; j < L; j++) out[o + j] = src[s + j]!;
    else for (let j = 0; j < L; j++) out[o + j * oL] = src[s + j * sL]!;
    advanceOdometer(pos, rank - 2, sizes, strides, outStrides, c);
  }
}

/** Step an odometer over axes 0..top (innermost = top) and move the source / output offsets `c` with it. */
function advanceOdometer(pos: number[], top: number, sizes: number[], strides: number[], outStrides: number[], c: { s: number; o: number }): void {
  for (let d = top; d >= 0; d--) {
    pos[d]!++;
    c.s += strides[d]!;
    c.o += outStrides[d]!;
    if (pos[d]! < sizes[d]!) return;
    c.s -= strides[d]! * sizes[d]!;
    c.o -= outStrides[d]! * sizes[d]!;
    pos[d] = 0;
  }
}

/** Tile edge of the blocked 2-D transpose (32×32 floats = 4 KiB per tile side). */
const TILE = 32;

/**
 * The inner two output axes read the source transposed (source stride 1 on the second-to-last
 * output axis): copy them in TILE×TILE tiles so that both sides stay in cache; outer axes by odometer.
 */
function blockedTranspose(src: AnyArray, base: number, sizes: number[], strides: number[], out: AnyArray, outBase: number, outStrides: number[]): void {
  const rank = sizes.length;
  const R = sizes[rank - 2]!; // output rows = source contiguous axis
  const L = sizes[rank - 1]!; // output columns
  const sL = strides[rank - 1]!;
  const oR = outStrides[rank - 2]!;
  let outer = 1;
  for (let d = 0; d < rank - 2; d++) outer *= sizes[d]!;
  const pos = new Array<number>(Math.max(rank - 2, 0)).fill(0);
  const c = { s: base, o: outBase };
  for (let q = 0; q < outer; q++) {
    const s = c.s, o = c.o;
    for (let i0 = 0; i0 < R; i0 += TILE) {
      const i1 = Math.min(R, i0 + TILE);
      for (let j0 = 0; j0 < L; j0 += TILE) {
        const j1 = Math.min(L, j0 + TILE);
        for (let i = i0; i < i1; i++) {
          const orow = o + i * oR;
          const srow = s + i;
          for (let j = j0; j < j1; j++) out[orow + j] = src[srow + j * sL]!;
        }
      }
    }
    advanceOdometer(pos, rank - 3, sizes, strides, outStrides, c);
  }
}

/**
 * `permute(x, perm)` as a coalesced strided gather (any dtype).
 * @source src/ops/permute.ts (the definition); PyTorch torch.permute(...).contiguous()
 * @equation out[j_0, …, j_{r−1}] = x[k] with k_{perm[i]} = j_i
 * @deviation none
 * @precision exact (copy)
 */
export function fastPermute<D extends DType>(x: Tensor<D>, perm: readonly number[], newOut: (n: number) => Float32Array = newJsF32): Tensor<D> {
  const rank = x?.shape?.length ?? -1;
  const ok = rank >= 1 && Array.isArray(perm) && perm.length === rank && new Set(perm).size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank) && x.data.length === numel(x.shape);
  if (!ok || x.data.length === 0) return permute(x, perm);
  const shape = perm.map((p) => x.shape[p]!);
  const inStr = stridesOf(x.shape);
  const c = coalesce(shape, perm.map((p) => inStr[p]!));
  const n = x.data.length;
  const out = x.data instanceof Float32Array ? (newOut(n) as typeof x.data) : new (x.data.constructor as new (n: number) => typeof x.data)(n);
  stridedCopy(x.data, 0, c.sizes, c.strides, out, 0, stridesOf(c.sizes));
  return { dtype: x.dtype, shape, data: out };
}

/**
 * `slice(x, starts, ends)` as a coalesced strided gather.
 * @source src/ops/slice.ts (the definition)
 * @equation out[j] = x[starts + j]
 * @deviation none
 * @precision exact (copy)
 */
export function fastSlice(x: Tensor, starts: readonly number[], ends: readonly number[], newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(x)) return slice(x, starts, ends);
  const rank = x.shape.length;
  const ok = Array.isArray(starts) && Array.isArray(ends) && starts.length === rank && ends.length === rank &&
    starts.every((s, d) => Number.isInteger(s) && Number.isInteger(ends[d]) && s >= 0 && s < ends[d]! && ends[d]! <= x.shape[d]!);
  if (!ok) return slice(x, starts, ends);
  const shape = starts.map((s, d) => ends[d]! - s);
  const inStr = stridesOf(x.shape);
  let base = 0;
  for (let d = 0; d < rank; d++) base += starts[d]! * inStr[d]!;
  const c = coalesce(shape, [...inStr]);
  const out = newOut(numel(shape));
  stridedCopy(x.data, base, c.sizes, c.strides, out, 0, stridesOf(c.sizes));
  return { dtype: 'float32', shape, data: out };
}

/**
 * `pad(x, pads, value)`: fill, then a strided scatter of x into the interior.
 * @source src/ops/pad.ts (the definition)
 * @equation out[j + before] = x[j], value elsewhere
 * @deviation none
 * @precision exact (copy)
 */
export function fastPad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  if (!isF32(x)) return pad(x, pads, value);
  const rank = x.shape.length;
  const ok = Array.isArray(pads) && pads.length === rank && pads.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)) &&
    typeof value === 'number' && !Number.isNaN(value);
  if (!ok) return pad(x, pads, value);
  const shape = x.shape.map((s, d) => s + pads[d]![0] + pads[d]![1]);
  const out = newOut(numel(shape));
  out.fill(value); // the allocator may hand back reused memory
  const outStr = stridesOf(shape);
  let base = 0;
  for (let d = 0; d < rank; d++) base += pads[d]![0] * outStr[d]!;
  // scatter: iterate x in order; source strides are x's own, destination strides the padded ones
  const inStr = stridesOf(x.shape);
  const sizes = [...x.shape];
  // merge axes contiguous in both x and out
  const s: number[] = [];
  const si: number[] = [];
  const so: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (sizes[d] === 1) continue;
    const k = s.length - 1;
    if (k >= 0 && si[k] === sizes[d]! * inStr[d]! && so[k] === sizes[d]! * outStr[d]!) {
      s[k] = s[k]! * sizes[d]!;
      si[k] = inStr[d]!;
      so[k] = outStr[d]!;
    } else {
      s.push(sizes[d]!);
      si.push(inStr[d]!);
      so.push(outStr[d]!);
    }
  }
  if (s.length === 0) {
    s.push(1);
    si.push(1);
    so.push(1);
  }
  stridedCopy(x.data, 0, s, si, out, base, so);
  return { dtype: 'float32', shape, data: out };
}

/**
 * `interpolateBilinear(x, {size})` (PyTorch bilinear, align_corners = False) with the horizontal blend
 * of every needed input row computed once (in float64, the same expression as the reference's inner
 * parentheses) and shared by all output rows that read it.
 * @source src/ops/interpolate-bilinear.ts (the definition); PyTorch F.interpolate(mode="bilinear")
 * @equation y[p, q] = a₀(p)·h[i₀(p)][q] + a₁(p)·h[i₁(p)][q],  h[r][q] = b₀(q)·x[r, j₀(q)] + b₁(q)·x[r, j₁(q)]
 * @deviation none
 * @precision bit-identical to the reference (same fp64 operations in the same order, one fp32 store)
 */
export function fastInterpolateBilinear(x: Tensor, attrs: InterpolateBilinearAttrs, newOut: (n: number) => Float32Array = newJsF32): Tensor {
  const size = attrs?.size;
  const ok = isF32(x) && x.shape.length === 4 && Array.isArray(size) && size.length === 2 && size.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok) return interpolateBilinear(x, attrs);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Ho, Wo] = size;
  const th = bilinearTaps(H, Ho);
  const tw = bilinearTaps(W, Wo);
  const xd = x.data as Float32Array;
  const out = newOut(N * C * Ho * Wo);
  const hrow = new Float64Array(H * Wo);
  const done = new Uint8Array(H);
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * Ho * Wo;
    done.fill(0);
    const row = (r: number): number => {
      const o = r * Wo;
      if (!done[r]) {
        const xr = xPlane + r * W;
        for (let q = 0; q < Wo; q++) hrow[o + q] = tw.w0[q]! * xd[xr + tw.i0[q]!]! + tw.w1[q]! * xd[xr + tw.i1[q]!]!;
        done[r] = 1;
      }
      return o;
    };
    for (let p = 0; p < Ho; p++) {
      const h0 = row(th.i0[p]!);
      const h1 = row(th.i1[p]!);
      const a0 = th.w0[p]!;
      const a1 = th.w1[p]!;
      const y = yPlane + p * Wo;
      for (let q = 0; q < Wo; q++) out[y + q] = a0 * hrow[h0 + q]! + a1 * hrow[h1 + q]!;
    }
  }
  return { dtype: 'float32', shape: [N, C, Ho, Wo], data: out }; // [N, C, Ho, Wo]
}
