/**
 * The library's error hierarchy. Every failure caused by input (from the network, from storage or from the
 * caller) surfaces as an `OtrError` subclass with a stable `code`, never as a bare TypeError or RangeError
 * thrown from deep inside a decoder. Messages never contain secret material.
 */
export type OtrErrorCode =
  | 'INVALID_ARGUMENT' // the caller passed something of the wrong type/length
  | 'MALFORMED' // bytes that do not decode (truncated, oversized, bad tag...)
  | 'INVALID_POINT' // not canonical, not on the curve, identity, or not in the prime-order subgroup
  | 'INVALID_SCALAR' // non-canonical scalar where canonical is required
  | 'INVALID_DH_VALUE' // DH public value outside [2, p-2] or not in the prime-order subgroup
  | 'BAD_SIGNATURE' // an EdDSA, DSA or ring signature that does not verify
  | 'BAD_MAC' // an authenticator that does not verify
  | 'EXPIRED' // a profile past its expiry
  | 'LIMIT_EXCEEDED' // a configured limit (see limits.ts) would be exceeded
  | 'STATE' // the message is not acceptable in the current protocol state
  | 'CONFLICT' // a store's compare-and-set failed: another writer or a stale copy saved this record first
  | 'ROLLBACK' // a store handed back an older generation of a record than this process already saw
  | 'NOT_INITIALIZED' // a crypto call before `await init()`
  | 'POOL' // the worker pool (otr4/pool) could not run a call: worker exit, timeout, closed, overloaded (OtrPoolError.reason)
  | 'BACKEND'; // the crypto backend failed its self-test or is unavailable

export class OtrError extends Error {
  readonly code: OtrErrorCode;
  constructor(code: OtrErrorCode, message: string) {
    super(message);
    // A literal name per class (not new.target.name): minifiers rename classes in apps' bundles.
    this.name = 'OtrError';
    this.code = code;
  }
}

/** Input that cannot be decoded or is structurally invalid. */
export class OtrDecodeError extends OtrError {
  constructor(message: string, code: OtrErrorCode = 'MALFORMED') {
    super(code, message);
    this.name = 'OtrDecodeError';
  }
}

/** A cryptographic check failed: bad point, bad DH value, signature or MAC mismatch. */
export class OtrCryptoError extends OtrError {
  constructor(code: OtrErrorCode, message: string) {
    super(code, message);
    this.name = 'OtrCryptoError';
  }
}

/** A configured limit was hit (fragment sizes, skipped keys, pending messages ...). */
export class OtrLimitError extends OtrError {
  constructor(message: string) {
    super('LIMIT_EXCEEDED', message);
    this.name = 'OtrLimitError';
  }
}

/** A message or call that the current protocol state does not allow. */
export class OtrStateError extends OtrError {
  constructor(message: string) {
    super('STATE', message);
    this.name = 'OtrStateError';
  }
}

/** A programming error by the caller: wrong type or length of an argument. */
export class OtrArgumentError extends OtrError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OtrArgumentError';
  }
}

/**
 * A store refused a commit because the record's generation is not the expected one: another process or a
 * stale copy of the account saved it first. Nothing was written; the caller must reload before going on.
 */
export class OtrStoreConflictError extends OtrError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('CONFLICT', message);
    this.name = 'OtrStoreConflictError';
    this.key = key;
  }
}

/**
 * A store cannot tell whether a commit was written: the connection was lost while the database was committing
 * it, and asking again did not settle it (the database unreachable, or the records changed since). Code STATE,
 * like any failed commit: the caller must not transmit what it was committing. If it was written, the next
 * commit of these records is a CONFLICT (reload them); if not, it goes through. Either way no state is reused
 * on the wire: nothing of that call was transmitted.
 */
export class OtrStoreOutcomeUnknownError extends OtrStateError {
  /** The records of the commit. */
  readonly keys: readonly string[];
  constructor(keys: readonly string[], message: string) {
    super(message);
    this.name = 'OtrStoreOutcomeUnknownError';
    this.keys = keys;
  }
}

/**
 * A store handed back a record older than one this process already loaded or committed (a restored backup,
 * a replaced file, a row rolled back by hand): the keys in it may have been used already. The caller must not
 * encrypt with that state again; it ends the conversation and says so.
 */
export class OtrStoreRollbackError extends OtrError {
  readonly key: string;
  /** The highest generation this process saw for the record, and the one the store holds now (0: none). */
  readonly known: number;
  readonly found: number;
  constructor(key: string, known: number, found: number, message: string) {
    super('ROLLBACK', message);
    this.name = 'OtrStoreRollbackError';
    this.key = key;
    this.known = known;
    this.found = found;
  }
}
