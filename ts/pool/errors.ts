/**
 * Why the pool refused or lost a call. Protocol failures keep their own classes (an OtrDecodeError thrown in a
 * worker is rebuilt as an OtrDecodeError on the main thread: see protocol.ts); this class is only for what the
 * pool itself adds — threads that die, calls that wait too long, a pool that is closing.
 *
 * The rule every reason follows: a call rejected with an OtrPoolError had NO effect on the account's state
 * as the pool will run it from now on (the account was reverted to its last checkpoint, or the call never
 * reached a worker), so retrying it is safe. Its outputs were never released.
 */
// The core's error classes, not its entry: the pool's main-thread side loads no protocol code (see pool.ts).
import { OtrError } from '../errors.js';

export type PoolFailure =
  /** The worker running the call exited or crashed; its accounts were reloaded from their last checkpoint. */
  | 'worker-exit'
  /** The call did not complete within `callTimeoutMs`; if it was running, its worker was replaced. */
  | 'timeout'
  /** A replacement worker could not be started (its backend failed to load) `maxRestarts` times in a row. */
  | 'worker-start'
  /** The pool is closing or closed. */
  | 'closed'
  /** No account with this id is in the pool (never added, unloaded, or lost its only copy in a crash). */
  | 'unknown-account'
  /** Too many calls are waiting (`maxQueuedCalls` or `maxQueuedChars`): back-pressure, retry later. */
  | 'overloaded'
  /** The host's `onCheckpoint` failed: the call's outputs were withheld and the account reverted. */
  | 'persist-failed'
  /** The worker hit an unexpected (non-OtrError) exception; the account was reverted to its checkpoint. */
  | 'internal';

export class OtrPoolError extends OtrError {
  readonly reason: PoolFailure;
  /** The account the call was for, when there is one. */
  readonly accountId: string | undefined;
  constructor(reason: PoolFailure, message: string, accountId?: string) {
    super('POOL', message);
    this.name = 'OtrPoolError';
    this.reason = reason;
    this.accountId = accountId;
  }
}
