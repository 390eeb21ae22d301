/**
 * Resident scopes: while a scope is open, the fast backend's op outputs are views into the runtime's
 * arena instead of fresh JS arrays, and op inputs that already live there are read in place. This
 * removes the two costs that dominate a forward pass on this machine: the copy into and out of wasm
 * memory per op, and the first touch of every freshly allocated output (≈ 60–250 MB/s here, against
 * ≈ 10 GB/s for arena pages that an earlier forward already touched).
 *
 * Lifetime rule: a tensor produced inside a scope is valid until that scope exits. `residentScope`
 * moves the body's result down to the scope's start (nested scope) or copies it out to a JS array
 * (outermost scope), then frees everything else the scope allocated. Weight packs requested inside a
 * scope are built transiently for that call and rebuilt persistently after the outermost scope
 * (`deferPersistent`), so the pack caches never point into released memory.
 */
import { specRequire, type Tensor } from '../tensor';
import { alloc, arenaAddress, f32At, mark, release, u8At } from './arena';
import type { KernelRuntime } from './runtime';

// MAIN

/**
 * True while at least one resident scope of this runtime is open.
 * @source (resident scopes)
 * @deviation none
 * @precision exact
 */
export function inResidentScope(rt: KernelRuntime): boolean {
  return rt.resident.depth > 0;
}

/**
 * A float32 output buffer of `n` elements: an arena view kept until the enclosing scope exits when a
 * scope is open, otherwise a fresh JS array. Its contents are unspecified (arena memory is reused).
 * @source (resident scopes)
 * @deviation none
 * @precision exact
 */
export function newF32(rt: KernelRuntime, n: number): Float32Array {
  if (rt.resident.depth === 0) return new Float32Array(n);
  return f32At(rt.arena, alloc(rt.arena, n * 4), n);
}

/**
 * The byte address of `data` in the arena: in place when it already lives there, otherwise copied
 * into scratch space at the current top (the caller holds a mark and releases it).
 * @source (resident scopes)
 * @deviation none
 * @precision exact (copy)
 */
export function inputAddress(rt: KernelRuntime, data: Float32Array): number {
  const at = arenaAddress(rt.arena, data);
  if (at >= 0 && at % 4 === 0) return at;
  const p = alloc(rt.arena, data.length * 4);
  f32At(rt.arena, p, data.length).set(data);
  return p;
}

/**
 * Run `body(y)` that writes `n` floats at byte address `y` (it may allocate scratch, released when it
 * returns) and hand the result back: an arena view inside a scope, a JS copy outside.
 * @source (resident scopes)
 * @deviation none
 * @precision exact
 */
export function produceF32(rt: KernelRuntime, n: number, body: (y: number) => void): Float32Array {
  const m0 = mark(rt.arena);
  let done = false;
  try {
    const y = alloc(rt.arena, n * 4);
    const m1 = mark(rt.arena);
    try {
      body(y);
    } finally {
      release(rt.arena, m1);
    }
    done = true;
    if (rt.resident.depth > 0) return f32At(rt.arena, y, n);
    return f32At(rt.arena, y, n).slice();
  } finally {
    if (!done || rt.resident.depth === 0) release(rt.arena, m0);
  }
}

/**
 * Persistent arena work (a weight pack) asked for at a point where the arena top may belong to a
 * scope: run it now when no scope is open, otherwise after the outermost scope has been released.
 * Returns true when it ran now.
 * @source (resident scopes)
 * @deviation none
 * @precision exact
 */
export function deferPersistent(rt: KernelRuntime, work: () => void): boolean {
  if (rt.resident.depth === 0) {
    work();
    return true;
  }
  rt.resident.pending.push(work);
  return false;
}

/**
 * Run `body` inside a resident scope and return its result tensor with ordinary lifetime relative to
 * the caller: moved to the scope's start when an outer scope is open, copied to a JS array otherwise.
 * Everything else the body allocated in the arena is freed.
 * @source (resident scopes)
 * @equation scoped(f) ≡ f (same values; only where the bytes live differs)
 * @deviation none
 * @precision exact (copies)
 */
export function residentScope<T extends Tensor>(rt: KernelRuntime, body: () => T): T {
  const st = rt.resident;
  const m = mark(rt.arena);
  st.depth++;
  let r: T;
  try {
    r = body();
  } catch (e) {
    st.depth--;
    release(rt.arena, m);
    if (st.depth === 0) st.pending.length = 0;
    throw e;
  }
  st.depth--;
  specRequire(r !== null && typeof r === 'object' && ArrayBuffer.isView(r.data), { fn: 'residentScope', what: 'body result', rule: 'be a tensor', got: typeof r });
  const data = r.data as unknown as ArrayBufferView & { length: number };
  const at = arenaAddress(rt.arena, data);
  let out: T = r;
  if (at >= m) {
    const bytes = data.byteLength;
    if (st.depth === 0) {
      out = { ...r, data: (r.data as Float32Array).slice() };
      release(rt.arena, m);
    } else {
      release(rt.arena, m);
      const align = Math.ceil(m / 64) * 64 <= at ? 64 : (r.data as Float32Array).BYTES_PER_ELEMENT;
      const dst = alloc(rt.arena, bytes, align); // m ≤ dst ≤ at: the move goes downward (or nowhere)
      u8At(rt.arena, dst, at - dst + bytes).copyWithin(0, at - dst, at - dst + bytes);
      const Ctor = (r.data as Float32Array).constructor as new (b: ArrayBufferLike, o: number, n: number) => typeof r.data;
      out = { ...r, data: new Ctor(rt.arena.memory.buffer, dst, data.length) };
    }
  } else {
    release(rt.arena, m);
  }
  if (st.depth === 0 && st.pending.length > 0) {
    const work = st.pending.splice(0);
    for (const w of work) w();
  }
  return out;
}
