/**
 * Errors across a thread boundary (the SQLite store's worker, the session pool's workers). Structured clone
 * drops an error's class, so the thread that threw sends `WireError` data and the other side rebuilds the same
 * Otr* subclass with the same code, message and fields. What each side does with an error that is not one of
 * ours differs (the pool hides its message, the store reports it), so that part stays with each caller.
 */
import {
  OtrArgumentError,
  OtrCryptoError,
  OtrDecodeError,
  OtrError,
  OtrLimitError,
  OtrStateError,
  OtrStoreConflictError,
  OtrStoreRollbackError,
  type OtrErrorCode,
} from '../errors.js';

export interface WireError {
  name: string;
  code?: OtrErrorCode;
  message: string;
  /** OtrStoreConflictError's and OtrStoreRollbackError's record key. */
  key?: string;
  /** OtrStoreRollbackError's generations. */
  known?: number;
  found?: number;
  /** True for an exception that is not an OtrError (a bug): the pool's worker reverted the account. */
  internal?: boolean;
}

/** An OtrError as data, with the fields its subclass carries. */
export function otrErrorToWire(e: OtrError): WireError {
  const w: WireError = { name: e.name, code: e.code, message: e.message };
  if (e instanceof OtrStoreConflictError) w.key = e.key;
  if (e instanceof OtrStoreRollbackError) Object.assign(w, { key: e.key, known: e.known, found: e.found });
  return w;
}

/** The Otr* error `w` names, rebuilt; undefined for a name that is not one of ours. */
export function otrErrorFromWire(w: WireError): OtrError | undefined {
  switch (w.name) {
    case 'OtrDecodeError':
      return new OtrDecodeError(w.message, w.code);
    case 'OtrCryptoError':
      return new OtrCryptoError(w.code ?? 'BAD_MAC', w.message);
    case 'OtrLimitError':
      return new OtrLimitError(w.message);
    case 'OtrStateError':
      return new OtrStateError(w.message);
    case 'OtrArgumentError':
      return new OtrArgumentError(w.message);
    case 'OtrStoreConflictError':
      return new OtrStoreConflictError(w.key ?? '', w.message);
    case 'OtrStoreRollbackError':
      return new OtrStoreRollbackError(w.key ?? '', w.known ?? 0, w.found ?? 0, w.message);
    case 'OtrError':
      return new OtrError(w.code ?? 'STATE', w.message);
    default:
      return undefined;
  }
}
