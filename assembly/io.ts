// The one I/O region shared with JavaScript. Memory is fixed (asconfig: initial = maximum), nothing is
// allocated after start-up, so the JS side keeps one Uint8Array view for the module's whole life.
// Inputs are copied in at agreed offsets, outputs copied out; secrets are wiped by the callee.

export const IO_SIZE: i32 = 1 << 16;
export const IO: usize = memory.data(IO_SIZE, 64);

export function io_ptr(): usize {
  return IO;
}

export function io_size(): i32 {
  return IO_SIZE;
}

/** Zero `len` bytes at `ptr` (wiping secrets from scratch space). */
export function wipe(ptr: usize, len: usize): void {
  memory.fill(ptr, 0, len);
}

/**
 * Zero a small fixed-size region (`len` a multiple of 4) with plain stores: in V8 memory.fill is a call out
 * of line, dearer than a few stores for the per-call key and state wipes of the symmetric kernels.
 */
@inline
export function wipeSmall(ptr: usize, len: usize): void {
  for (let i: usize = 0; i < len; i += 4) store<u32>(ptr + i, 0);
}
