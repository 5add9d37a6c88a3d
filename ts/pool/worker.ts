/**
 * One pool worker: a thread with its own crypto backend (`init()` here, not on the main thread) and the
 * accounts the pool placed on it. It runs each batch of calls synchronously, in order, and answers with one
 * message, so calls for one account run in exactly the order the main thread submitted them.
 *
 * Checkpoints. After every call that may change an account (mode 'every-call'), the account is serialized
 * and the bytes go back with the result; the main thread keeps them as the state to reload from if this
 * thread dies. The worker also keeps the last checkpoint of each account: when a call throws something that
 * is not an OtrError (a bug, so the state may be half-changed), the account is rebuilt from it here — the
 * same revert the main thread would do after a crash.
 *
 * Environment. Randomness and time are the library's injection points; a thread cannot receive functions,
 * so the host may name a module (`environment` in the pool options) whose `environment(accountId)` returns
 * `{ random?, clock? }` for each account. Tests use it for seeded, reproducible runs.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Account, init, OtrArgumentError, type BackendName, type Conversation, type RandomSource } from '../index.js';
import { equalBytes, utf8, wipe } from '../bytes.js';
import { CheckpointBuffer } from './checkpoint-buffer.js';
import {
  toWireError,
  type AccountInfo,
  type AccountSettings,
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
  /** The bytes this account was last checkpointed as (what a revert goes back to), overwritten in place. */
  checkpoint: CheckpointBuffer;
  /**
   * The bytes the account was restored from (a load's, or a revert's copy), if it was: kept while the account
   * lives (restore may keep views into its input) and zeroed when it goes, as the whole account they are.
   */
  input: Uint8Array | undefined;
}

/** Zeroes what a departing account leaves in this worker: its checkpoint holder and its restore input. */
function letGo(h: Held): void {
  h.checkpoint.wipe();
  if (h.input) wipe(h.input);
  h.input = undefined;
}

const config = workerData as WorkerConfig;
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

function info(id: string, a: Account): AccountInfo {
  return { accountId: id, instanceTag: a.instanceTag, fingerprint: a.fingerprint, peers: a.peers, backend: backend as BackendName };
}

function restore(id: string, bytes: Uint8Array, settings: AccountSettings): Account {
  const a = Account.restore(bytes, { ...settings, ...injected(id) });
  if (!equalBytes(a.accountId, utf8(id)))
    throw new OtrArgumentError('the state is of another account than the id it was loaded under');
  return a;
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

/** Runs one call; `mutates` says whether the account may have changed (so a checkpoint is due). */
function run(call: WorkerCall): { value: unknown; mutates: boolean } {
  switch (call.op) {
    case 'create': {
      if (accounts.has(call.account)) throw new OtrArgumentError('account already in this worker');
      const { accountId, policy, limits, ...rest } = call.options;
      const a = Account.create({ ...rest, accountId, policy, limits, ...injected(accountId) });
      const bytes = a.serialize();
      accounts.set(accountId, { account: a, settings: { policy, limits }, checkpoint: new CheckpointBuffer(bytes), input: undefined });
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
      // A copy: the restored account may keep views into call.bytes (attached records).
      accounts.set(call.account, { account: a, settings: call.settings, checkpoint: new CheckpointBuffer(call.bytes), input: call.bytes });
      if (replaced) letGo(replaced);
      return { value: info(call.account, a), mutates: false };
    }
    case 'unload': {
      const h = held(call.account);
      const bytes = h.account.serialize();
      accounts.delete(call.account);
      letGo(h);
      return { value: bytes, mutates: false };
    }
    case 'checkpoint':
      held(call.account);
      return { value: undefined, mutates: true };
    case 'conv': {
      const h = held(call.account);
      if (typeof call.peer !== 'string' || typeof call.method !== 'string' || !Array.isArray(call.args)) throw new OtrArgumentError('malformed call');
      const value = runConversation(h.account.conversation(call.peer), call.method, call.args);
      return { value, mutates: call.method !== 'info' };
    }
    default:
      throw new OtrArgumentError('unknown pool operation');
  }
}

function runOne(call: WorkerCall, transfer: ArrayBuffer[]): CallResult {
  try {
    const { value, mutates } = run(call);
    const h = accounts.get(call.account);
    // 'create' always checkpoints: until the main thread holds bytes, a crash would lose the new keys.
    if (h && mutates && (config.checkpoints === 'every-call' || call.op === 'create' || call.op === 'checkpoint')) {
      // 'create' serialized already (its checkpoint buffer holds it); the copy that leaves is made from it.
      const bytes = call.op === 'create' ? h.checkpoint.copy() : h.account.serialize();
      if (call.op !== 'create') h.checkpoint.set(bytes);
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

/** After a non-OtrError the account's state is suspect: rebuild it from its last checkpoint. */
function revert(id: string): void {
  const h = accounts.get(id);
  if (!h) return;
  const before = h.input;
  const bytes = h.checkpoint.copy(); // restore may keep views into its input: never our buffer itself
  try {
    h.account = restore(id, bytes, h.settings);
    h.input = bytes;
  } catch {
    wipe(bytes);
    letGo(h);
    accounts.delete(id); // cannot happen for bytes we produced; if it does, the main thread's reload decides
  }
  if (before) wipe(before); // the suspect account built on it is dropped
}

port.on('message', (m: BatchRequest) => {
  if (!m || m.kind !== 'batch' || !Array.isArray(m.calls)) return;
  const transfer: ArrayBuffer[] = [];
  const results = m.calls.map((c) => runOne(c, transfer));
  try {
    port.postMessage({ kind: 'result', id: m.id, results }, transfer);
  } catch {
    // A value that cannot be cloned would be a library bug; answer every call rather than die with the batch.
    const safe = results.map((r): CallResult => {
      try {
        structuredClone(r);
        return r;
      } catch {
        return { ok: false, error: { name: 'Error', code: 'STATE', message: 'the result could not be sent back', internal: true } };
      }
    });
    port.postMessage({ kind: 'result', id: m.id, results: safe });
  }
});

port.postMessage({ kind: 'ready', backend, nice });
