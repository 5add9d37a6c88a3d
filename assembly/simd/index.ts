// The optional SIMD module (built with --enable simd, loaded only where the runtime validates it): the
// primitives whose SIMD versions measurably beat the scalar ones in the main module. Same I/O region layout.
export { io_ptr, io_size } from '../io';
export { chacha20_data, chacha20_xor } from './chacha20x4';
export { modexp_bytes, modexp_setup, modexp_pow } from './modexp';
export { datamsg_area, datamsg_header_max, data_seal, data_open } from './datamsg';
export { aead_area, aead_aad_max, aead_seal, aead_open, aead_wipe, aead_poly1305_test } from './aead';
export * from './ed448';
