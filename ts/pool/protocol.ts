/**
 * The messages between the pool (main thread) and its workers. Everything here is structured-clone data:
 * strings, numbers, plain objects, Uint8Array, bigint (DSA keys). One `BatchRequest` carries many calls, so
 * one postMessage round trip is paid per batch rather than per call; the worker answers with one
 * `BatchReply` whose results are in the same order as the calls.
 *
 * Errors cannot cross a thread as objects (structured clone drops their class), so a worker sends
 * `WireError` and the main thread rebuilds the same OtrError subclass with the same code and message.
 */
import { OtrError } from '../errors.js';
import type { AccountOptions, BackendName, Limits, Policy } from '../index.js';
import { otrErrorFromWire, otrErrorToWire, type WireError } from '../store/wire-error.js';
import type { RecordChange, StoredRecord } from '../store/types.js';

/** The conversation methods a worker runs, with the arguments of Conversation's method of the same name. */
export type ConversationMethod =
  | 'start'
  | 'startDake'
  | 'sendOffline'
  | 'send'
  | 'receive'
  | 'end'
  | 'poll'
  | 'startSmp'
  | 'answerSmp'
  | 'abortSmp'
  | 'setPolicy'
  | 'info';

/** What the pool remembers per account and passes again on every (re)load: what serialize() does not keep. */
export interface AccountSettings {
  policy?: Partial<Policy>;
  limits?: Partial<Limits>;
}

/** Account.create's options that can cross a thread (backend, random and clock come from the worker). */
export type CreateOptions = Omit<AccountOptions, 'backend' | 'random' | 'clock' | 'accountId'> & { accountId: string };

export type WorkerCall =
  | { op: 'create'; account: string; options: CreateOptions }
  | { op: 'load'; account: string; bytes: Uint8Array; settings: AccountSettings }
  /** An account from its records (checkpoints: 'records': a reload, or the host's loadAccountRecords). */
  | { op: 'loadRecords'; account: string; records: StoredRecord[]; settings: AccountSettings }
  /** `records`: hand out what is pending as changes and drop the account (a move); else resolve with its bytes. */
  | { op: 'unload'; account: string; records?: boolean }
  | { op: 'checkpoint'; account: string }
  | { op: 'conv'; account: string; peer: string; method: ConversationMethod; args: unknown[] };

export interface BatchRequest {
  kind: 'batch';
  id: number;
  calls: WorkerCall[];
}

export type { WireError };

export type CallResult =
  | {
      ok: true;
      value: unknown;
      /** checkpoints 'every-call' / 'manual': the account's bytes after the call (transferred). */
      checkpoint?: Uint8Array;
      /**
       * checkpoints 'records': the records the call changed, each at its next generation (bytes transferred).
       * For a conversation call this is the Outcome's own `changed` array (one object after the clone).
       */
      records?: RecordChange[];
      /** checkpoints 'records', a load of whole-account bytes: every record as loaded (no change: already stored). */
      snapshot?: StoredRecord[];
    }
  | { ok: false; error: WireError };

export interface BatchReply {
  kind: 'result';
  id: number;
  /** One per call, in call order; null where the call's result is packed (`packed`, result-batch.ts). */
  results: (CallResult | null)[];
  /** The packed results (session 12): one transferred buffer per batch, read by result-batch.ts unpackResults. */
  packed?: ArrayBuffer;
}

export interface ReadyMessage {
  kind: 'ready';
  backend: BackendName;
  /** The scheduling nice value the worker thread runs at (Linux), or undefined where the pool leaves it alone. */
  nice: number | undefined;
}

export type WorkerMessage = BatchReply | ReadyMessage;

/** How a worker is started (workerData). */
export interface WorkerConfig {
  backend: BackendName | 'auto';
  /** URL of the host's environment module (random and clock per account), if any. */
  environment?: string;
  /**
   * 'records': hand back the records each call changed (no serialize per call); 'every-call': serialize after
   * each call that may change the account; 'manual': only when asked.
   */
  checkpoints: 'records' | 'every-call' | 'manual';
  /** Nice increment for the worker thread itself (Linux only; 0: leave it alone). See pool.ts, workerNice. */
  nice: number;
}

/** What `create` and `load` return. */
export interface AccountInfo {
  accountId: string;
  instanceTag: number;
  fingerprint: string;
  peers: string[];
  /** The backend of the worker the account lives in. */
  backend: BackendName;
}

/** What the `info` method returns: Conversation's read-only getters, as data. */
export interface ConversationInfo {
  state: string;
  version: 3 | 4 | undefined;
  ssid: string | undefined;
  peerFingerprint: string | undefined;
  instanceTags: number[];
  currentInstance: number;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof OtrError) return otrErrorToWire(e);
  // Not ours: report the class only. The message of a foreign exception could quote input or state.
  return { name: 'Error', code: 'STATE', message: `unexpected ${(e as Error)?.name ?? typeof e} in the worker`, internal: true };
}

/** The OtrError subclass the worker threw, rebuilt with its code and message. */
export function fromWireError(w: WireError): OtrError {
  return otrErrorFromWire(w) ?? new OtrError(w.code ?? 'STATE', w.message);
}
