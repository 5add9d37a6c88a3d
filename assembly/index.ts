// The only export surface of the WebAssembly module: the I/O region and the entry points of each
// primitive. Each file below owns one primitive; see its header for the calling convention.
export { io_ptr, io_size } from './io';
export * from './keccak';
export * from './chacha20';
export * from './sha1';
export * from './ed448';
export * from './modexp';
export * from './ed448ring';
// Test hooks (public values only): the field inversion and Jacobi routines alone, for test/field448.test.ts.
export * from './fe448test';
export { datamsg_area, datamsg_header_max, data_seal, data_open } from './datamsg';
export { aead_area, aead_aad_max, aead_seal, aead_open, aead_wipe } from './aead';
export { aead_poly1305_test } from './aead';
export { ed448_mul_valid, ed448_mul_hinted } from './ed448ecdh';
export { jacobi_var } from './jacobi';
