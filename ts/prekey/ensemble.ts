/**
 * Prekey Ensembles (otrv4.md §Validating Prekey Ensembles, §Receiving Prekey Ensembles;
 * otrv4-prekey-server.md §Retrieving Prekey Ensembles): a Client Profile, a Prekey Profile and one prekey
 * message of the same instance, encoded back to back
 *
 *   ENSEMBLE = CLIENT-PROF || PREKEY-PROF || Prekey Message
 *
 * `validateEnsemble` runs the spec's checks in its order and throws `InvalidEnsembleError`, an OtrError whose
 * `code` is the underlying failure's (EXPIRED, BAD_SIGNATURE, INVALID_POINT, INVALID_DH_VALUE, MALFORMED,
 * STATE) and whose `defect` names the check, so callers and tests can tell every defect apart.
 * `chooseEnsembles` applies the "many ensembles received" guide: drop invalid ones and duplicates, keep the
 * one with the latest expiry per instance tag.
 */
import type { CryptoBackend } from '../backend/types.js';
import { equalBytes } from '../bytes.js';
import { OtrArgumentError, OtrError, type OtrErrorCode } from '../errors.js';
import type { Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { readClientProfile, type ClientProfile } from '../profile/encoding.js';
import { validateClientProfile } from '../profile/client-profile.js';
import { readPrekeyProfile, validatePrekeyProfile, type PrekeyProfile } from './prekey-profile.js';
import { readPrekeyMessage, verifyPrekeyMessage, writePrekeyMessage, type PrekeyMessage } from './prekey-message.js';

export interface PrekeyEnsemble {
  readonly clientProfile: ClientProfile;
  readonly prekeyProfile: PrekeyProfile;
  readonly prekeyMessage: PrekeyMessage;
}

export type EnsembleDefect =
  | 'instance-tag-mismatch' // the three parts name different instances
  | 'client-profile' // the client profile does not validate (see `code`: EXPIRED, BAD_SIGNATURE, ...)
  | 'prekey-profile' // the prekey profile does not validate or is not signed by the client profile's key
  | 'prekey-message' // Y is not a valid point or B not in the DH group
  | 'version' // no OTR version both the ensemble and we support
  | 'reused-prekey' // a prekey message we have already used
  | 'own-ensemble'; // our own instance tag, or our own long-term key (a hostile server's answer: a DAKE with ourselves)

/** An ensemble that failed validation. */
export class InvalidEnsembleError extends OtrError {
  readonly defect: EnsembleDefect;
  constructor(defect: EnsembleDefect, code: OtrErrorCode, message: string) {
    super(code, message);
    this.name = 'InvalidEnsembleError';
    this.defect = defect;
  }
}

export function writeEnsemble(w: Writer, e: PrekeyEnsemble): void {
  w.raw(e.clientProfile.encoded).raw(e.prekeyProfile.encoded);
  writePrekeyMessage(w, e.prekeyMessage);
}

export function readEnsemble(r: SpanReader): PrekeyEnsemble {
  const clientProfile = readClientProfile(r);
  const prekeyProfile = readPrekeyProfile(r);
  const prekeyMessage = readPrekeyMessage(r);
  return { clientProfile, prekeyProfile, prekeyMessage };
}

export function decodeEnsemble(bytes: Uint8Array): PrekeyEnsemble {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('ensemble must be bytes');
  const r = new SpanReader(bytes);
  const e = readEnsemble(r);
  r.end('prekey ensemble');
  return e;
}

export interface ValidateEnsembleOptions {
  /** Current time, ms since the Unix epoch (injected). */
  readonly nowMs: number;
  /** The OTR versions we support (characters); default "4". */
  readonly ourVersions?: string;
  /** True for a prekey message we have already used (the server must never hand one out twice). */
  readonly alreadyUsed?: (m: PrekeyMessage) => boolean;
  /**
   * Who we are (ownIdentity in offline/dake.ts): an ensemble with our instance tag, or with our long-term key
   * when `identityKey` is given, is refused (`own-ensemble`) before anything is verified.
   */
  readonly own?: OwnIdentity;
}

/**
 * Our instance tag and long-term key, as the ensembles we would write to must not carry them. A prekey server
 * answers with what it likes, and our own published ensemble validates perfectly (session 12,
 * attacks/s12-own-ensemble): written to, it is a non-interactive DAKE with ourselves — a session keyed by our
 * own instance tag, whose every reply is ignored as reflected, and our own fingerprint recorded as the peer's
 * (the real peer's key then reads as a change, refused under policy.refuseUnverifiedChange). `identityKey` is
 * left out when the peer is our own account: another device of ours may share our long-term key.
 */
export interface OwnIdentity {
  readonly instanceTag: number;
  readonly identityKey?: Uint8Array;
}

/** Runs one validation step, re-labelling its OtrError as the ensemble defect it reveals (code kept). */
function check(defect: EnsembleDefect, step: () => void): void {
  try {
    step();
  } catch (e) {
    if (e instanceof OtrError && !(e instanceof InvalidEnsembleError)) throw new InvalidEnsembleError(defect, e.code, `${defect}: ${e.message}`);
    throw e;
  }
}

/**
 * otrv4.md §Validating Prekey Ensembles, steps 1–7 in order; with `own`, our own ensemble is refused right after
 * step 1 (whether to write to a key is ours to decide: §Receiving Prekey Ensembles). Throws InvalidEnsembleError.
 */
export function validateEnsemble(b: CryptoBackend, e: PrekeyEnsemble, o: ValidateEnsembleOptions): void {
  const tag = e.prekeyMessage.ownerTag;
  if (e.clientProfile.ownerTag !== tag || e.prekeyProfile.ownerTag !== tag)
    throw new InvalidEnsembleError('instance-tag-mismatch', 'MALFORMED', 'the ensemble mixes instance tags');
  // Before any signature is checked: two comparisons, and nothing of a refused ensemble is worth verifying.
  const own = o.own;
  if (own !== undefined && (tag === own.instanceTag || (own.identityKey !== undefined && equalBytes(e.clientProfile.identityKey, own.identityKey))))
    throw new InvalidEnsembleError('own-ensemble', 'STATE', 'own-ensemble: our own instance tag or long-term key, not the peer\'s');
  check('client-profile', () => validateClientProfile(b, e.clientProfile, { nowMs: o.nowMs, expectedOwnerTag: tag }));
  // Validating under the client profile's H is also step 4: signed by the same long-term key.
  check('prekey-profile', () =>
    validatePrekeyProfile(b, e.prekeyProfile, { nowMs: o.nowMs, identityKey: e.clientProfile.identityKey, expectedOwnerTag: tag }),
  );
  check('prekey-message', () => verifyPrekeyMessage(b, e.prekeyMessage));
  // Prekey messages are version 4 (the decoder admits nothing else): the profile must offer 4, and so must we.
  const ours = o.ourVersions ?? '4';
  if (!e.clientProfile.versions.includes('4') || !ours.includes('4'))
    throw new InvalidEnsembleError('version', 'MALFORMED', 'no common OTR version');
  if (o.alreadyUsed?.(e.prekeyMessage)) throw new InvalidEnsembleError('reused-prekey', 'STATE', 'this prekey message was already used');
}

function sameEnsemble(a: PrekeyEnsemble, c: PrekeyEnsemble): boolean {
  return (
    equalBytes(a.clientProfile.encoded, c.clientProfile.encoded) &&
    equalBytes(a.prekeyProfile.encoded, c.prekeyProfile.encoded) &&
    a.prekeyMessage.id === c.prekeyMessage.id &&
    equalBytes(a.prekeyMessage.y, c.prekeyMessage.y)
  );
}

function expiryOf(e: PrekeyEnsemble): bigint {
  const a = e.prekeyProfile.expiry;
  const c = e.clientProfile.expiry;
  return a < c ? a : c;
}

export interface EnsembleChoice {
  /** One valid ensemble per instance tag: the one whose profiles expire last. */
  readonly chosen: readonly PrekeyEnsemble[];
  /** Every ensemble refused, by index in the input, with the reason. */
  readonly rejected: readonly { readonly index: number; readonly error: InvalidEnsembleError }[];
  /** How many valid ensembles were dropped as duplicates or as older alternatives for the same instance. */
  readonly dropped: number;
}

/**
 * otrv4.md §Receiving Prekey Ensembles for "many ensembles received": validate each, discard invalid ones and
 * duplicates, and per instance tag keep the ensemble with the latest expiry (the earlier of its two profile
 * expiries; otrv4-prekey-server.md step "chooses the Prekey Ensemble with the latest expiry time from each
 * group"). Which instances to write to and whether the keys are trusted is the caller's decision.
 */
export function chooseEnsembles(b: CryptoBackend, ensembles: readonly PrekeyEnsemble[], o: ValidateEnsembleOptions): EnsembleChoice {
  const rejected: { index: number; error: InvalidEnsembleError }[] = [];
  const best = new Map<number, PrekeyEnsemble>();
  const valid: PrekeyEnsemble[] = [];
  ensembles.forEach((e, index) => {
    try {
      validateEnsemble(b, e, o);
    } catch (err) {
      if (err instanceof InvalidEnsembleError) rejected.push({ index, error: err });
      else if (err instanceof OtrError) rejected.push({ index, error: new InvalidEnsembleError('client-profile', err.code, err.message) });
      else throw err;
      return;
    }
    if (valid.some((v) => sameEnsemble(v, e))) return;
    valid.push(e);
    const tag = e.prekeyMessage.ownerTag;
    const cur = best.get(tag);
    if (!cur || expiryOf(e) > expiryOf(cur)) best.set(tag, e);
  });
  const chosen = [...best.values()];
  return { chosen, rejected, dropped: ensembles.length - rejected.length - chosen.length };
}
