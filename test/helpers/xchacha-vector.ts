/**
 * draft-irtf-cfrg-xchacha-03, Appendix A.3.1: the AEAD_XChaCha20_Poly1305 test vector (key, nonce, AAD,
 * plaintext, and ciphertext ‖ tag in hex), shared by the suites that check a record-sealing AEAD against it.
 */
export const XCHACHA_A31 = {
  key: Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i),
  nonce: Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i),
  aad: Uint8Array.from([0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]),
  plain: new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  sealedHex:
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452' +
    '2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
    'c0875924c1c7987947deafd8780acf49',
} as const;
