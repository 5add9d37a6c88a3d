/**
 * The pool suites' environment module (pool-env.ts: seeded randomness and clock per account) plus a hook that
 * forges a worker's answer (session 12, test/attacks/s12-pool-batch.test.ts): the main thread posts
 * `{ threadId, mode }` on the channel below, the worker with that threadId acknowledges, and the next batch
 * answer it sends is altered as `mode` says before it crosses the thread — what a broken worker (a library bug,
 * memory corruption) would send the host. The main thread must refuse it with a typed error.
 */
import { BroadcastChannel, isMainThread, parentPort, threadId } from 'node:worker_threads';

export { environment } from './pool-env.js';

export const FORGE_CHANNEL = 'otr4-test-pool-forge';

export type ForgeMode =
  | 'truncated'
  | 'trailing'
  | 'tag'
  | 'count'
  | 'huge-count'
  | 'string-length'
  | 'record-length'
  | 'results-not-array'
  | 'results-short'
  | 'packed-not-buffer'
  /** A copy of the answer under a batch id the main thread never sent, then the genuine answer (session 13). */
  | 'stray-then-genuine';

interface Reply {
  kind: string;
  results: unknown;
  packed?: unknown;
}

/** The answer `m` altered as `mode` says (its packed bytes copied first: the original is in the transfer list). */
function forge(m: Reply, mode: ForgeMode): Reply {
  const bytes = m.packed instanceof ArrayBuffer ? new Uint8Array(m.packed.slice(0)) : new Uint8Array(0);
  const view = new DataView(bytes.buffer);
  const out: Reply = m.packed === undefined ? { ...m } : { ...m, packed: bytes.buffer };
  switch (mode) {
    case 'truncated':
      out.packed = bytes.buffer.slice(0, bytes.length - 1);
      break;
    case 'trailing':
      out.packed = new Uint8Array([...bytes, 0]).buffer;
      break;
    case 'tag':
      bytes[4] = 9; // the first call's tag
      break;
    case 'count':
      view.setUint32(0, view.getUint32(0, true) + 1, true);
      break;
    case 'huge-count':
      view.setUint32(5, 0xffffffff, true); // the first Outcome's toSend count
      break;
    case 'string-length':
      view.setUint32(10, 0x7fffffff, true); // the first toSend string's byte length
      break;
    case 'record-length': {
      // The first call's first record's length field, found by walking the layout (result-batch.ts).
      let at = 5;
      const str = () => (at += 5 + view.getUint32(at + 1, true));
      const count = () => {
        const n = view.getUint32(at, true);
        at += 4;
        return n;
      };
      for (let n = count(); n > 0; n--) str(); // toSend
      for (let n = count(); n > 0; n--) (str(), (at += 5)); // messages
      count(); // changed
      str(); // its key
      at += 8;
      view.setInt32(at, bytes.length, true); // longer than what is left
      break;
    }
    case 'results-not-array':
      out.results = 'not an array';
      break;
    case 'results-short':
      out.results = (m.results as unknown[]).slice(1);
      break;
    case 'packed-not-buffer':
      out.packed = 'not a buffer';
      break;
    case 'stray-then-genuine':
      (out as { id?: number }).id = 0x7fffffff;
      break;
  }
  return out;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const ch = new BroadcastChannel(FORGE_CHANNEL);
  (ch as unknown as { unref(): void }).unref();
  ch.onmessage = (e) => {
    const { threadId: target, mode } = (e as { data: { threadId: number; mode?: ForgeMode } }).data;
    if (target !== threadId || !mode) return;
    type Post = typeof port.postMessage;
    const post: Post = port.postMessage.bind(port);
    port.postMessage = ((m: unknown, transfer?: Parameters<Post>[1]) => {
      const r = m as Reply;
      // (The two modes on `results` apply to any answer, packed or not.)
      const applies = r?.kind === 'result' && (r.packed instanceof ArrayBuffer || mode === 'results-not-array' || mode === 'results-short');
      if (!applies) return post(m, transfer);
      port.postMessage = post; // once
      if (mode !== 'stray-then-genuine') return post(forge(r, mode), transfer);
      post(forge(r, mode));
      return post(m, transfer);
    }) as Post;
    ch.postMessage({ ack: threadId });
  };
}

/** Main thread: tells the worker with `threadId` to forge its next packed answer; resolves once it has the order. */
export async function armForge(threadId: number, mode: ForgeMode): Promise<void> {
  const ch = new BroadcastChannel(FORGE_CHANNEL);
  try {
    await new Promise<void>((resolve) => {
      ch.onmessage = (e) => {
        if ((e as { data: { ack?: number } }).data.ack === threadId) resolve();
      };
      ch.postMessage({ threadId, mode });
    });
  } finally {
    ch.close();
  }
}
