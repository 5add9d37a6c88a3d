/**
 * One pool worker: a thread with its own crypto backend (`init()` here, not on the main thread) and the
 * accounts the pool placed on it. It runs each batch of calls synchronously, in order, and answers with one
 * message, so calls for one account run in exactly the order the main thread submitted them.
 *
 * Checkpoints. With 'records' (the default) each call hands back the records it changed — a conversation
 * call's Outcome already lists them in `changed`; the buffers are transferred, not copied — and the main
 * thread keeps them as the account's reload point (ts/pool/record-set.ts): no `serialize()` per call, O(what
 * changed) per call on both threads. With 'every-call' the account is serialized after every call that may
 * change it and the whole bytes go back instead (the older path, for hosts whose onCheckpoint wants bytes).
 * The worker also keeps its own copy of the reload point of each account: when a call throws something that is
 * not an OtrError (a bug, so the state may be half-changed), the account is rebuilt from it here — the same
 * revert the main thread would do after a crash.
 *
 * Environment. Randomness and time are the library's injection points; a thread cannot receive functions,
 * so the host may name a module (`environment` in the pool options) whose `environment(accountId)` returns
 * `{ random?, clock? }` for each account. Tests use it for seeded, reproducible runs.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Account, init, OtrArgumentError, type BackendName, type Conversation, type Outcome, type RandomSource } from '../index.js';
import { equalBytes, utf8, wipe } from '../bytes.js';
import { ACCOUNT_RECORD } from '../store/types.js';
import type { RecordChange, StoredRecord } from '../store/types.js';
import { CheckpointBuffer } from './checkpoint-buffer.js';
import { RecordSet } from './record-set.js';
import { outcomeResult, packable, packResults } from './result-batch.js';
import {
  toWireError,
  type AccountInfo,
  type AccountSettings,
  type BatchReply,
  type BatchRequest,
  type CallResult,
  type ConversationInfo,
  type WorkerCall,
  type WorkerConfig,
} from './protocol.js';

/** The shape of the host's environment module. */
export interface PoolEnvironment {
  environment?(accountId: string): { random?: RandomSource; clock?: () => number };
}

interface Held {
  account: Account;
  settings: AccountSettings;
  /** 'every-call' / 'manual': the bytes this account was last checkpointed as (what a revert goes back to), overwritten in place. */
  checkpoint: CheckpointBuffer | undefined;
  /** 'records': the records as last handed out or loaded (what a revert goes back to), each overwritten in place. */
  records: RecordSet | undefined;
  /**
   * The bytes the account was restored from (a load's, or a revert's copy), if it was: kept while the account
   * lives (restore may keep views into its input) and zeroed when it goes, as the whole account they are.
   */
  input: Uint8Array | undefined;
}

/** Zeroes what a departing account leaves in this worker: its checkpoint holder and its restore input. */
function letGo(h: Held): void {
  h.checkpoint?.wipe();
  h.records?.wipe();
  if (h.input) wipe(h.input);
  h.input = undefined;
}

const config = workerData as WorkerConfig;
const RECORDS = config.checkpoints === 'records';
const port = parentPort;
if (!port) throw new Error('otr4/pool: worker.js runs only as a worker thread');

/**
 * Below the main thread: on Linux, setpriority(PRIO_PROCESS, 0) changes the calling *thread* only (threads are
 * tasks there), so this worker yields to the host's event loop whenever both are ready, and the main thread
 * hands out results and the next batches at once instead of waiting for a core behind its own workers. Elsewhere
 * the same call would renice the whole process, so it is not made. Best effort: a failure leaves the default.
 */
function lowerOwnPriority(increment: number): number | undefined {
  if (process.platform !== 'linux' || !(increment > 0)) return undefined;
  try {
    setPriority(0, Math.min(19, getPriority(0) + increment));
  } catch {
    // not permitted in this sandbox: run at the inherited priority
  }
  return getPriority(0);
}

const nice = lowerOwnPriority(config.nice);
const { backend } = await init({ backend: config.backend });
const env: PoolEnvironment = config.environment ? ((await import(config.environment)) as PoolEnvironment) : {};
const accounts = new Map<string, Held>();

function injected(accountId: string): { random?: RandomSource; clock?: () => number } {
  const e = env.environment?.(accountId) ?? {};
  const out: { random?: RandomSource; clock?: () => number } = {};
  if (e.random) out.random = e.random;
  if (e.clock) out.clock = e.clock;
  return out;
}

function held(id: string): Held {
  const h = accounts.get(id);
  if (!h) throw new OtrArgumentError('unknown account in this worker');
  return h;
}

/**
 * Holds an account in this worker. The records its calls change leave transferred (detached here), so the
 * account keeps copies of its own to tell a call that changes nothing (records.ts keepCopies): set once here.
 */
function hold(id: string, h: Held): void {
  h.account.keepRecordCopies();
  accounts.set(id, h);
}

function info(id: string, a: Account): AccountInfo {
  return { accountId: id, instanceTag: a.instanceTag, fingerprint: a.fingerprint, peers: a.peers, backend: backend as BackendName };
}

function restore(id: string, bytes: Uint8Array, settings: AccountSettings): Account {
  const a = Account.restore(bytes, { ...settings, ...injected(id) });
  if (!equalBytes(a.accountId, utf8(id)))
    throw new OtrArgumentError('the state is of another account than the id it was loaded under');
  return a;
}

/**
 * An account from its records: `Account.fromRecord` on the account record, `attachRecord` on each conversation
 * record (decoded when first used). Returns the account and the copy of the account record it was built on
 * (restore may keep views into it: kept while the account lives, zeroed when it goes). The records' own bytes
 * stay the caller's.
 */
function fromRecords(id: string, records: readonly StoredRecord[], settings: AccountSettings): { account: Account; input: Uint8Array } {
  if (!Array.isArray(records)) throw new OtrArgumentError('records must be an array');
  let own: StoredRecord | undefined;
  for (const r of records) if (r && r.key === ACCOUNT_RECORD) own = r;
  if (!own || !(own.bytes instanceof Uint8Array)) throw new OtrArgumentError('the records hold no account record');
  const input = own.bytes.slice();
  try {
    const a = Account.fromRecord({ bytes: input, generation: own.generation }, { ...settings, ...injected(id) });
    if (!equalBytes(a.accountId, utf8(id))) throw new OtrArgumentError('the state is of another account than the id it was loaded under');
    for (const r of records) if (r.key !== ACCOUNT_RECORD) a.attachRecord(r);
    return { account: a, input };
  } catch (e) {
    wipe(input);
    throw e;
  }
}

function conversationInfo(c: Conversation): ConversationInfo {
  return { state: c.state, version: c.version, ssid: c.ssid, peerFingerprint: c.peerFingerprint, instanceTags: c.instanceTags, currentInstance: c.currentInstance };
}

function runConversation(c: Conversation, method: string, args: unknown[]): unknown {
  switch (method) {
    case 'start':
      return c.start();
    case 'startDake':
      return c.startDake(args[0] as number | undefined);
    case 'sendOffline':
      return c.sendOffline(args[0] as Parameters<Conversation['sendOffline']>[0], args[1] as string | undefined);
    case 'send':
      return c.send(args[0] as string, args[1] as Parameters<Conversation['send']>[1]);
    case 'receive':
      return c.receive(args[0] as string);
    case 'end':
      return c.end();
    case 'poll':
      return c.poll();
    case 'startSmp':
      return c.startSmp(args[0] as string | Uint8Array, args[1] as string | undefined);
    case 'answerSmp':
      return c.answerSmp(args[0] as string | Uint8Array);
    case 'abortSmp':
      return c.abortSmp();
    case 'setPolicy':
      c.setPolicy(args[0] as Parameters<Conversation['setPolicy']>[0]);
      return undefined;
    case 'info':
      return conversationInfo(c);
    default:
      throw new OtrArgumentError('unknown conversation method');
  }
}

/** What a call did: its value; whether the account may have changed (a whole-bytes checkpoint is due); records. */
interface Ran {
  value: unknown;
  mutates: boolean;
  /** 'records': the records the call changed, at their next generations. */
  records?: RecordChange[] | undefined;
  /** 'records': every record as loaded (a load of whole bytes). */
  snapshot?: StoredRecord[];
}

/** Runs one call. */
function run(call: WorkerCall): Ran {
  switch (call.op) {
    case 'create': {
      if (accounts.has(call.account)) throw new OtrArgumentError('account already in this worker');
      const { accountId, policy, limits, ...rest } = call.options;
      const a = Account.create({ ...rest, accountId, policy, limits, ...injected(accountId) });
      if (RECORDS) {
        // The new account's record (generation 1): until the main thread holds it, a crash would lose the keys.
        const records = a.changes();
        hold(accountId, { account: a, settings: { policy, limits }, checkpoint: undefined, records: new RecordSet(records), input: undefined });
        return { value: info(accountId, a), mutates: false, records };
      }
      const bytes = a.serialize();
      hold(accountId, { account: a, settings: { policy, limits }, checkpoint: new CheckpointBuffer(bytes), records: undefined, input: undefined });
      wipe(bytes);
      return { value: info(accountId, a), mutates: true };
    }
    case 'load': {
      let a: Account;
      try {
        a = restore(call.account, call.bytes, call.settings);
      } catch (e) {
        if (call.bytes instanceof Uint8Array) wipe(call.bytes); // a refused state is not kept here either
        throw e;
      }
      const replaced = accounts.get(call.account); // a reload over the account (the pool reverting it)
      // The restored account may keep views into call.bytes (attached records): kept as its input.
      if (RECORDS) {
        const snapshot = a.records();
        hold(call.account, { account: a, settings: call.settings, checkpoint: undefined, records: new RecordSet(snapshot), input: call.bytes });
        if (replaced) letGo(replaced);
        return { value: info(call.account, a), mutates: false, snapshot };
      }
      hold(call.account, { account: a, settings: call.settings, checkpoint: new CheckpointBuffer(call.bytes), records: undefined, input: call.bytes });
      if (replaced) letGo(replaced);
      return { value: info(call.account, a), mutates: false };
    }
    case 'loadRecords': {
      let built: { account: Account; input: Uint8Array };
      try {
        built = fromRecords(call.account, call.records, call.settings);
      } catch (e) {
        wipeRecords(call.records);
        throw e;
      }
      const replaced = accounts.get(call.account);
      hold(call.account, { account: built.account, settings: call.settings, checkpoint: undefined, records: new RecordSet(call.records), input: built.input });
      wipeRecords(call.records); // copied: into the account (attached records, its input) and into our reload point
      if (replaced) letGo(replaced);
      return { value: info(call.account, built.account), mutates: false };
    }
    case 'unload': {
      const h = held(call.account);
      // A move: what is not handed out yet (a call that threw after changing state) goes out as changes, so
      // the records the account is rebuilt from elsewhere are complete.
      const records = call.records ? h.account.changes() : undefined;
      const bytes = call.records ? undefined : h.account.serialize();
      accounts.delete(call.account);
      letGo(h);
      return { value: bytes, mutates: false, records };
    }
    case 'checkpoint': {
      const h = held(call.account);
      if (!RECORDS) return { value: undefined, mutates: true };
      return { value: h.account.serialize(), mutates: false, records: h.account.changes() };
    }
    case 'conv': {
      const h = held(call.account);
      if (typeof call.peer !== 'string' || typeof call.method !== 'string' || !Array.isArray(call.args)) throw new OtrArgumentError('malformed call');
      const value = runConversation(h.account.conversation(call.peer), call.method, call.args);
      if (!RECORDS || call.method === 'info') return { value, mutates: call.method !== 'info' };
      // setPolicy changes the conversation's record (its per-peer policy) but is not a call that reports
      // changes (records.ts): every live record is written again, at its next generation. Rare, O(conversations).
      const records = call.method === 'setPolicy' ? h.account.changes({ all: true }) : (value as Outcome).changed;
      return { value, mutates: true, records };
    }
    default:
      throw new OtrArgumentError('unknown pool operation');
  }
}

function wipeRecords(records: unknown): void {
  if (!Array.isArray(records)) return;
  for (const r of records) if (r && (r as StoredRecord).bytes instanceof Uint8Array) wipe((r as StoredRecord).bytes);
}

/**
 * Lists each record's buffer for transfer (no copy to the main thread). A buffer shared with anything else
 * (a view into a larger one) is replaced by its own copy first: a transfer detaches the whole ArrayBuffer.
 */
function transferRecords(records: readonly (RecordChange | StoredRecord)[], transfer: ArrayBuffer[], seen: Set<ArrayBuffer>): void {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]! as { bytes: Uint8Array | null };
    const b = r.bytes;
    if (!b) continue;
    if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength || seen.has(b.buffer as ArrayBuffer)) r.bytes = b.slice();
    seen.add(r.bytes!.buffer as ArrayBuffer);
    transfer.push(r.bytes!.buffer as ArrayBuffer);
  }
}

/**
 * Runs one call and says what goes back: its CallResult (structured-cloned to the main thread), or, for the
 * usual conversation call in 'records' mode, its Outcome to pack into the batch's one buffer (result-batch.ts:
 * `outcomes[i]` set, the CallResult undefined).
 */
function runOne(call: WorkerCall, transfer: ArrayBuffer[], seen: Set<ArrayBuffer>, outcomes: (Outcome | undefined)[], index: number): CallResult | undefined {
  try {
    const { value, mutates, records, snapshot } = run(call);
    const h = accounts.get(call.account);
    if (RECORDS && call.op === 'conv' && records === (value as Outcome | undefined)?.changed && packable(value)) {
      if (records!.length > 0) h?.records?.apply(records!); // our reload point moves forward (copied in)
      outcomes[index] = value;
      return undefined;
    }
    if (RECORDS) {
      if (records && records.length > 0) {
        // 'create' keeps them already; any other call moves our reload point forward (copied in, in place).
        if (h && call.op !== 'create') h.records?.apply(records);
        transferRecords(records, transfer, seen);
      }
      if (snapshot) transferRecords(snapshot, transfer, seen);
      // unload / checkpoint: the whole account's bytes, fresh from serialize(), transferred (a view is copied first).
      let v = value;
      if (v instanceof Uint8Array) {
        if (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength || seen.has(v.buffer as ArrayBuffer)) {
          v = v.slice();
          wipe(value as Uint8Array); // the account's secrets: not left behind in the view we did not send
        }
        seen.add((v as Uint8Array).buffer as ArrayBuffer);
        transfer.push((v as Uint8Array).buffer as ArrayBuffer);
      }
      const out: CallResult = { ok: true, value: v };
      if (records && records.length > 0) out.records = records;
      if (snapshot) out.snapshot = snapshot;
      return out;
    }
    // A conversation's Outcome lists the records it changed: their buffers are fresh, transferred not cloned.
    const changed = (value as Outcome | undefined)?.changed;
    if (call.op === 'conv' && Array.isArray(changed)) transferRecords(changed, transfer, seen);
    // 'create' always checkpoints: until the main thread holds bytes, a crash would lose the new keys.
    if (h && mutates && (config.checkpoints === 'every-call' || call.op === 'create' || call.op === 'checkpoint')) {
      // 'create' serialized already (its checkpoint buffer holds it); the copy that leaves is made from it.
      const bytes = call.op === 'create' ? h.checkpoint!.copy() : h.account.serialize();
      if (call.op !== 'create') h.checkpoint!.set(bytes);
      // Ours stays in the account's checkpoint buffer (for local reverts); these bytes are fresh (encodeState
      // copies out of its writer) and go to the main thread transferred, not cloned, so they die young here.
      const out = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      if (out !== bytes) wipe(bytes);
      transfer.push(out.buffer as ArrayBuffer);
      return { ok: true, value, checkpoint: out };
    }
    return { ok: true, value };
  } catch (e) {
    const w = toWireError(e);
    if (w.internal) revert(call.account);
    return { ok: false, error: w };
  }
}

/** After a non-OtrError the account's state is suspect: rebuild it from its last reload point. */
function revert(id: string): void {
  const h = accounts.get(id);
  if (!h) return;
  const before = h.input;
  try {
    if (h.records) {
      const records = h.records.records(); // fresh copies: fromRecords copies what it keeps
      try {
        const built = fromRecords(id, records, h.settings);
        h.account = built.account;
        h.input = built.input;
      } finally {
        wipeRecords(records);
      }
    } else {
      const bytes = h.checkpoint!.copy(); // restore may keep views into its input: never our buffer itself
      try {
        h.account = restore(id, bytes, h.settings);
        h.input = bytes;
      } catch (e) {
        wipe(bytes);
        throw e;
      }
    }
  } catch {
    letGo(h);
    accounts.delete(id); // cannot happen for state we produced; if it does, the main thread's reload decides
  }
  if (before) wipe(before); // the suspect account built on it is dropped
}

/**
 * The batch's answer: the packed Outcomes in one transferred buffer, the other results beside it. The records'
 * bytes were copied into the buffer, so the Outcomes' own are zeroed here (the account keeps copies of its
 * own: hold()). Should packing fail (a bug), every result goes structured as before.
 */
function answer(id: number, results: (CallResult | undefined)[], outcomes: (Outcome | undefined)[], transfer: ArrayBuffer[], seen: Set<ArrayBuffer>): BatchReply {
  try {
    const { packed, structured } = packResults(results, outcomes);
    for (const o of outcomes) if (o) wipeRecords(o.changed);
    transfer.push(packed);
    return { kind: 'result', id, results: structured, packed };
  } catch {
    const out = results.map((r, i): CallResult => {
      const o = outcomes[i];
      if (r || !o) return r!;
      transferRecords(o.changed!, transfer, seen);
      return outcomeResult(o);
    });
    return { kind: 'result', id, results: out };
  }
}

port.on('message', (m: BatchRequest) => {
  if (!m || m.kind !== 'batch' || !Array.isArray(m.calls)) return;
  const transfer: ArrayBuffer[] = [];
  const seen = new Set<ArrayBuffer>();
  const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(m.calls.length).fill(undefined);
  const ran = m.calls.map((c, i) => runOne(c, transfer, seen, outcomes, i));
  const reply = outcomes.some((o) => o !== undefined) ? answer(m.id, ran, outcomes, transfer, seen) : { kind: 'result' as const, id: m.id, results: ran as CallResult[] };
  const results = reply.results;
  try {
    port.postMessage(reply, transfer);
  } catch {
    // A value that cannot be cloned would be a library bug; answer every call rather than die with the batch.
    const safe = results.map((r): CallResult | null => {
      if (r === null) return null; // packed
      try {
        structuredClone(r);
        return r;
      } catch {
        return { ok: false, error: { name: 'Error', code: 'STATE', message: 'the result could not be sent back', internal: true } };
      }
    });
    if (reply.packed) port.postMessage({ kind: 'result', id: m.id, results: safe, packed: reply.packed }, [reply.packed]);
    else port.postMessage({ kind: 'result', id: m.id, results: safe });
  }
});

port.postMessage({ kind: 'ready', backend, nice });
