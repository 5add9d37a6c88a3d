/**
 * What every WASM adapter gets: the module's exports, one byte view over its fixed memory and the I/O
 * region. Memory never grows (asconfig sets initial = maximum), so the view never detaches.
 */
export interface WasmContext {
  /** The raw exports of the instance: numbers in, numbers out. */
  readonly exports: Record<string, any>;
  /** A view over the whole linear memory. */
  readonly mem: Uint8Array;
  /** Address and size of the I/O region. */
  readonly io: number;
  readonly ioSize: number;
}

/** Copies `data` into memory at `ptr`. */
export function put(ctx: WasmContext, ptr: number, data: Uint8Array): void {
  ctx.mem.set(data, ptr);
}

/** Copies `len` bytes at `ptr` out of memory into a fresh array. */
export function take(ctx: WasmContext, ptr: number, len: number): Uint8Array {
  return ctx.mem.slice(ptr, ptr + len);
}

/** Zeroes `len` bytes at `ptr` (secrets left in the I/O region by an adapter). */
export function clear(ctx: WasmContext, ptr: number, len: number): void {
  ctx.mem.fill(0, ptr, ptr + len);
}
