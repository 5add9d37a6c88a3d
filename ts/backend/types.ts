/**
 * The one interface between protocol code and the hot maths. Three implementations exist: `wasm`
 * (AssemblyScript, constant-time, fixed memory), `js` (the noble libraries and BigInt) and, in Node only,
 * `hybrid` (the WASM backend with MODP exponentiation and large ChaCha20 inputs handed to OpenSSL through
 * node:crypto; docs/backends.md). Everything above this layer (EdDSA, ECDH, DH, ring signatures, SMP, the
 * ratchet) is written once against this interface.
 *
 * Conventions:
 * - points are 57-byte RFC 8032 encodings; scalars are 57-byte little-endian integers;
 * - DH integers are big-endian byte strings;
 * - outputs are fresh arrays owned by the caller; inputs are never modified;
 * - a point that does not decode raises `OtrCryptoError('INVALID_POINT')`; lengths are checked and raise
 *   `OtrArgumentError`. Every backend raises the same errors for the same input.
 */
export type BackendName = 'wasm' | 'js' | 'hybrid';

/** The RFC 3526 MODP groups used by OTR: 3072-bit for OTRv4, 1536-bit for OTRv3. */
export type DhGroupName = 'modp3072' | 'modp1536';

export interface CryptoBackend {
  readonly name: BackendName;

  // ---- Keccak ----
  /** SHAKE-256 of the concatenation of `parts`, `outLen` bytes (any length >= 0). */
  shake256(parts: readonly Uint8Array[], outLen: number): Uint8Array;

  /**
   * Optional, fused: the double ratchet's per-message keys of one 64-byte chain key ck — next = KDF(0x14, ck),
   * mkEnc = KDF(0x15, ck), mkMac = KDF(0x16, mkEnc), each 64 bytes — in one call, bit-identical to the three
   * shake256 calls ratchet/keys.ts makes without it. The WASM backend offers it (one crossing instead of three).
   */
  ratchetMessageKeys?(chainKey: Uint8Array): { next: Uint8Array; mkEnc: Uint8Array; mkMac: Uint8Array };

  /**
   * Optional, fused: one data message's ratchet crypto on the sending side, bit-identical to what
   * ratchet/keys.ts sealMessage composes without it: the message keys of chain key `chainKey` (as
   * ratchetMessageKeys), `plaintext` encrypted with ChaCha20 under MKenc[0..32) (zero nonce, counter 0) into
   * the LAST plaintext.length bytes of `authenticated` (the message's ciphertext field: the one input this
   * writes to), then authenticator = KDF(0x18, MKmac || authenticated, 64). Returns the next chain key and the
   * authenticator; MKenc and MKmac never leave the backend. Returns undefined, having touched nothing, for
   * sizes it does not take (the caller then composes the primitives). The WASM backend offers it: the data
   * crosses into the module once and back once, instead of three calls' copies.
   */
  sealDataMessage?(chainKey: Uint8Array, authenticated: Uint8Array, plaintext: Uint8Array, into?: DataMessageScratch): SealedDataMessage | undefined;
  /**
   * Optional, fused: the receiving side. The last `ciphertextLength` bytes of `authenticated` are the
   * ciphertext. Recomputes the authenticator over `authenticated` and compares it with `authenticator` in
   * constant time; on a match returns the plaintext, the next chain key and MKmac (which the receiver reveals
   * later), on a mismatch `null` with no key left anywhere and nothing decrypted, and undefined for sizes it
   * does not take. Bit-identical to ratchet/keys.ts openMessage's composition.
   */
  openDataMessage?(chainKey: Uint8Array, authenticated: Uint8Array, ciphertextLength: number, authenticator: Uint8Array, into?: DataMessageScratch): OpenedDataMessage | null | undefined;

  // ---- ChaCha20 ----
  /**
   * RFC 8439 ChaCha20: `data` XOR keystream(key 32 B, nonce 12 B, initial block counter). With `out` (exactly
   * `data.length` bytes; may be `data` itself for in-place), the result is written there and `out` returned,
   * instead of a new array: the data path encrypts straight into the message buffer (a fresh array of a few
   * KiB costs V8 a separate backing-store allocation, ~1–3 µs, more than the copy it replaces).
   */
  chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter?: number, out?: Uint8Array): Uint8Array;

  // ---- XChaCha20-Poly1305 (records sealed at rest: ts/store/sealing.ts) ----
  /**
   * Optional: XChaCha20-Poly1305 as draft-irtf-cfrg-xchacha defines it (HChaCha20 subkey from the 32-byte key
   * and nonce[0..16], then RFC 8439 ChaCha20-Poly1305 with the nonce 0x00000000 ‖ nonce[16..24]). Encrypts
   * `plain` with associated data `aad` and writes ciphertext ‖ 16-byte tag into `out` (exactly plain.length +
   * 16 bytes), then returns true; returns false, having touched nothing, for sizes it does not take (the store
   * then seals with its own AEAD: the same bytes). The WASM backend, and so the hybrid one, offers it (one call
   * into the module per record); the JS backend does not (the store's own AEAD is OpenSSL in Node, noble
   * elsewhere: nothing to gain). The store uses it only after it agreed with its own AEAD on a fixed input.
   */
  sealXChaCha20Poly1305?(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array): boolean;
  /**
   * Optional, the inverse: `sealed` is ciphertext ‖ tag. Returns the plaintext (fresh, the caller's) when the
   * tag verifies, `null` when it does not (nothing decrypted, no key left), undefined for sizes it does not take.
   */
  openXChaCha20Poly1305?(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null | undefined;

  // ---- HMAC-SHA1 (OTRv3 data messages: ts/v3/crypto.ts) ----
  /**
   * Optional (the hybrid backend: OpenSSL; the WASM backend: assembly/sha1.ts): RFC 2104 HMAC-SHA1 of `data` under `key`, the 20-byte tag —
   * bit-identical to ts/v3/crypto.ts's noble HMAC, which callers use without it. OTRv3 MACs whole data
   * messages with it before anything else can refuse a forged one (docs/security.md, session 13).
   */
  hmacSha1?(key: Uint8Array, data: Uint8Array): Uint8Array;

  // ---- Ed448 group (RFC 8032 edwards448, a = 1, d = -39081) ----
  /** True iff `p` is a canonical RFC 8032 encoding of a point on the curve (bits 448..454 must be zero). */
  pointDecodes(p: Uint8Array): boolean;
  /** pointDecodes(p), and p is not the identity, and q·p = identity (prime-order subgroup). */
  pointIsValid(p: Uint8Array): boolean;
  /** G·k, constant time in k. `k` is any 57-byte little-endian integer (taken mod q). */
  pointMulBase(k: Uint8Array): Uint8Array;
  /** P·k, constant time in k. `k` is any 57-byte little-endian integer, taken mod q (so for a point with a
   *  torsion component this is P·(k mod q); protocol code validates received points before multiplying). */
  pointMul(p: Uint8Array, k: Uint8Array): Uint8Array;
  /**
   * Optional, fused: pointIsValid(p) ? pointMul(p, k) : null, in one call — the received ECDH key of a new
   * ratchet is validated and multiplied with one decoding of the point instead of two. Bit-identical to the
   * two calls; constant time in k. The WASM backend (and so the hybrid one) offers it, and keeps the decoded x
   * beside that key array for its next pointMul (the sending step's ECDH), checked there before use.
   */
  pointMulValid?(p: Uint8Array, k: Uint8Array): Uint8Array | null;
  /** G·a + P·b. VARIABLE time: for public inputs only (signature verification). */
  pointDoubleMulBase(a: Uint8Array, p: Uint8Array, b: Uint8Array): Uint8Array;
  /** G·a + P·b, constant time in a and b (scalars taken mod q, as in pointMul): the same point as
   *  pointAdd(pointMulBase(a), pointMul(p, b)) without encoding and decoding the two intermediate points. */
  pointDoubleMulBaseCT(a: Uint8Array, p: Uint8Array, b: Uint8Array): Uint8Array;
  /** P + Q (complete formula, constant time). */
  pointAdd(p: Uint8Array, q: Uint8Array): Uint8Array;

  /**
   * Optional, fused: a ring signature's three commitments when signing (ts/crypto/ring-sig.ts),
   * T_i = G·t in the signer's slot and G·r_i + A_i·c_i in the others, bit-identical to the
   * pointDoubleMulBaseCT calls ring-sig.ts makes without it, constant time in the secret inputs and in which
   * slot signs (`signer[i]` is -1 for the signer's slot, else 0). It also checks G·secret = publicKey. With
   * `validate`, ring members must be valid points (pointIsValid); without, they must decode.
   * Returns `{ T }`, or `{ invalidMember: i }` (0-based, the first failing member; T absent), or
   * `{ T, secretMismatch: true }`.
   */
  ringSignCommitments?(args: RingSignCommitArgs): RingCommitResult;
  /**
   * Optional, fused: a ring signature's commitments when verifying, T_i = G·r_i + A_i·c_i (VARIABLE time:
   * public inputs), bit-identical to three pointDoubleMulBase calls. Members as for ringSignCommitments.
   */
  ringVerifyCommitments?(ring: readonly Uint8Array[], c: readonly Uint8Array[], r: readonly Uint8Array[], validate: boolean): RingCommitResult;

  /**
   * Optional (the hybrid backend: OpenSSL): RFC 8032 Ed448 verification, empty context, of a signature by a
   * public key the caller has ALREADY validated (pointIsValid) — the same answer as ts/crypto/eddsa.ts
   * ed448Verify on this backend for every message and signature (false for wrong lengths). Without it,
   * callers use ed448Verify.
   */
  ed448VerifyValidKey?(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;

  // ---- scalars mod q (q = Ed448 group order), constant time ----
  /** Little-endian integer of at most 114 bytes, reduced mod q, as 57 bytes. */
  scalarReduce(x: Uint8Array): Uint8Array;
  /** a·b + c mod q; inputs are 57-byte little-endian integers (any value < 2^456). */
  scalarMulAdd(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array;

  // ---- modular exponentiation in the RFC 3526 groups ----
  /** base^exp mod p, as a big-endian value padded to the group size. Constant time in `exp` on WASM. */
  modPow(group: DhGroupName, base: Uint8Array, exp: Uint8Array): Uint8Array;
  /** Legendre symbol (x | p): 1 for a non-zero quadratic residue, -1 for a non-residue, 0 for x ≡ 0. Public x. */
  legendre(group: DhGroupName, x: Uint8Array): -1 | 0 | 1;
}

/**
 * Arrays of the caller's that the fused data-message calls write their outputs into instead of fresh ones
 * (`into`): the per-message path copies what it keeps into its state at once and wipes the rest, so a
 * message allocates no key arrays. `next` (64 bytes) takes the next chain key; `mac` (64 bytes, optional)
 * the authenticator (seal) or MKmac (open); `plaintext` (open, optional) a plaintext of up to its length,
 * the result's `plaintext` then being a view of its first bytes. An output without a place, or a plaintext
 * longer than its place, gets a fresh array as without `into`. On a mismatch (open's null) nothing is
 * written to `into`.
 */
export interface DataMessageScratch {
  readonly next: Uint8Array;
  readonly mac?: Uint8Array;
  readonly plaintext?: Uint8Array;
}

/** Result of CryptoBackend.sealDataMessage: fresh arrays owned by the caller (or `into`'s: DataMessageScratch). */
export interface SealedDataMessage {
  readonly next: Uint8Array;
  readonly authenticator: Uint8Array;
}

/** Result of CryptoBackend.openDataMessage: fresh arrays owned (and wiped) by the caller (or `into`'s). */
export interface OpenedDataMessage {
  readonly next: Uint8Array;
  readonly mkMac: Uint8Array;
  readonly plaintext: Uint8Array;
}

/** Inputs of CryptoBackend.ringSignCommitments: 57-byte points and scalars (scalars taken mod q). */
export interface RingSignCommitArgs {
  readonly ring: readonly Uint8Array[];
  readonly validate: boolean;
  /** -1 for the signer's slot (at most one), 0 for the others: a mask, never branched on. */
  readonly signer: readonly number[];
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly t: Uint8Array;
  readonly c: readonly Uint8Array[];
  readonly r: readonly Uint8Array[];
  /**
   * True when the caller has already checked G·secret = publicKey for this pair once (ring-sig.ts
   * CheckedSigner): the call then skips that fixed-base product, never reports secretMismatch, and
   * `secret` / `publicKey` are not used. Default false (checked here).
   */
  readonly secretChecked?: boolean;
}

/** Result of the fused ring-signature commitments (see CryptoBackend.ringSignCommitments). */
export interface RingCommitResult {
  readonly T?: readonly Uint8Array[];
  readonly invalidMember?: number;
  readonly secretMismatch?: boolean;
}
