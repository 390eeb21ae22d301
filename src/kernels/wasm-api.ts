/**
 * Typed access to the engine's `WebAssembly` object. The project compiles against `lib: ES2022`
 * without the DOM lib, so the WebAssembly JS API has no ambient types; this module declares the
 * small subset the kernels use (memories, modules, instances, validate) instead of adding a lib.
 */

// TYPES

/** A linear memory (shared when created with `shared: true`). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}

/** A compiled module (opaque; structured-cloneable to workers). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** An instance and its exports. */
export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

/** The subset of the WebAssembly namespace used here. */
export interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

// MAIN

/** The engine's WebAssembly API (a constant reference to a platform object). */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
