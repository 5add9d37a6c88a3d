// The SIMD module's Ed448 stack: the main module's entry points (assembly/ed448.ts, ed448ecdh.ts,
// ed448ring.ts; calling conventions there) compiled over the same group and field code, which under
// ASC_FEATURE_SIMD runs fe448simd.ts's vector product and uncarried sums and ge448mul.ts's 16-byte table
// scan. The WASM backend routes every Ed448 call here when the runtime validates SIMD (ts/backend/wasm/index.ts);
// the field test hooks come along so test/field448.test.ts checks both modules' kernels.
export {
  ed448_decodes, ed448_is_valid, ed448_mul_base, ed448_mul, ed448_double_mul_base, ed448_double_mul_base_ct,
  ed448_add, sc_reduce, sc_muladd,
} from '../ed448';
export { ed448_mul_valid, ed448_mul_hinted } from '../ed448ecdh';
export { ed448_ring_sign_commit, ed448_ring_verify_commit } from '../ed448ring';
export * from '../fe448test';
