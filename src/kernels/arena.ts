/**
 * A bump ("stack") arena over one shared `WebAssembly.Memory`: every tensor the fast kernels touch
 * lives in this memory, so all worker threads see the same bytes. Allocation is `alloc`; scoped
 * scratch space is released with `mark`/`release` (LIFO). Prepacked weights are allocated before a
 * mark and therefore persist until the arena's owner is disposed.
 *
 * The arena record is the one piece of mutable state of the fast backend: `top` moves. It is owned
 * by exactly one `KernelRuntime` and is never global.
 */
import { specRequire } from '../tensor';
import { wasm, type WasmMemory } from './wasm-api';

// TYPES

/** The arena: its memory, the first usable byte and the current top (next free byte). */
export interface Arena {
  readonly memory: WasmMemory;
  readonly base: number;
  top: number;
  /** Buffer objects this memory had before each growth (a shared memory's old buffers stay valid views of it). */
  readonly pastBuffers: WeakSet<ArrayBufferLike>;
}

// CONSTANTS

/** WebAssembly page size in bytes. */
export const WASM_PAGE = 65536;
/** Largest wasm32 memory in pages (4 GiB). */
export const MAX_PAGES = 65536;
/** Bytes left unused after every allocation: kernels may over-read a row end by up to 16 bytes. */
export const ALLOC_SLACK = 64;

// MAIN

/**
 * Create a shared memory of `initialPages` (maximum `maxPages`) and an arena that starts at `base`.
 * @source WebAssembly threads proposal (shared memory requires a maximum)
 * @deviation none
 * @precision exact
 */
export function createArena(initialPages = 256, maxPages = MAX_PAGES, base = 1024): Arena {
  const fn = 'createArena';
  specRequire(Number.isInteger(initialPages) && initialPages >= 1 && initialPages <= maxPages, { fn, what: 'initialPages', rule: `be an integer in [1, maxPages=${maxPages}]`, got: initialPages });
  specRequire(Number.isInteger(maxPages) && maxPages <= MAX_PAGES, { fn, what: 'maxPages', rule: `be an integer ≤ ${MAX_PAGES}`, got: maxPages });
  const memory = new wasm.Memory({ initial: initialPages, maximum: maxPages, shared: true });
  return { memory, base, top: base, pastBuffers: new WeakSet() };
}

/**
 * Allocate `bytes` bytes aligned to `align` (a power of two), growing the memory when needed;
 * returns the byte address.
 * @source (allocator)
 * @equation ptr = ⌈top / align⌉·align; top ← ptr + bytes + ALLOC_SLACK
 * @deviation none
 * @precision exact
 */
export function alloc(arena: Arena, bytes: number, align = 64): number {
  const fn = 'alloc';
  specRequire(Number.isInteger(bytes) && bytes >= 0, { fn, what: 'bytes', rule: 'be a non-negative integer', got: bytes });
  specRequire(Number.isInteger(align) && align > 0 && (align & (align - 1)) === 0, { fn, what: 'align', rule: 'be a power of two', got: align });
  const ptr = Math.ceil(arena.top / align) * align;
  const end = ptr + bytes + ALLOC_SLACK;
  const maxBytes = MAX_PAGES * WASM_PAGE;
  specRequire(end <= maxBytes, { fn, what: 'arena size after allocation', rule: `fit the 4 GiB wasm32 address space`, got: end });
  const have = arena.memory.buffer.byteLength;
  if (end > have) {
    const need = Math.ceil((end - have) / WASM_PAGE);
    // grow at least by half of the current size to amortise growth
    const grow = Math.max(need, Math.min(Math.ceil(have / WASM_PAGE / 2), MAX_PAGES - have / WASM_PAGE));
    arena.pastBuffers.add(arena.memory.buffer);
    arena.memory.grow(grow);
  }
  arena.top = end;
  return ptr;
}

/**
 * The current top, to be handed back to `release` when the scope's scratch space is no longer needed.
 * @source (allocator)
 * @deviation none
 * @precision exact
 */
export function mark(arena: Arena): number {
  return arena.top;
}

/**
 * Free everything allocated after `m` (LIFO release).
 * @source (allocator)
 * @deviation none
 * @precision exact
 */
export function release(arena: Arena, m: number): void {
  specRequire(m >= arena.base && m <= arena.top, { fn: 'release', what: 'mark', rule: `lie in [base, top] = [${arena.base}, ${arena.top}]`, got: m });
  arena.top = m;
}

/**
 * A fresh Float32Array view of `n` floats at byte address `ptr` (re-created per use: growth replaces the buffer).
 * @source (allocator)
 * @deviation none
 * @precision exact
 */
export function f32At(arena: Arena, ptr: number, n: number): Float32Array {
  return new Float32Array(arena.memory.buffer, ptr, n);
}

/**
 * The byte address of `data` when it is a view into this arena's memory, otherwise −1.
 * @source (allocator; WebAssembly threads: growing a shared memory does not detach its old buffers)
 * @deviation none
 * @precision exact
 */
export function arenaAddress(arena: Arena, data: ArrayBufferView): number {
  const buf = data.buffer;
  return buf === arena.memory.buffer || arena.pastBuffers.has(buf) ? data.byteOffset : -1;
}

/**
 * A fresh Int32Array view of `n` int32 at byte address `ptr`.
 * @source (allocator)
 * @deviation none
 * @precision exact
 */
export function i32At(arena: Arena, ptr: number, n: number): Int32Array {
  return new Int32Array(arena.memory.buffer, ptr, n);
}

/**
 * A fresh Uint8Array view of `n` bytes at byte address `ptr`.
 * @source (allocator)
 * @deviation none
 * @precision exact
 */
export function u8At(arena: Arena, ptr: number, n: number): Uint8Array {
  return new Uint8Array(arena.memory.buffer, ptr, n);
}
