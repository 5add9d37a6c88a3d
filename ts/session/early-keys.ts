/**
 * Early data read at the Auth-I (conversation.ts onAuthI, session 15): which queued message may be the peer's
 * previous session's rather than a forgery of the new one.
 *
 * The loop reads the queue until the first message that fails to authenticate (session 13: each failure cost
 * a DH ratchet step and up to maxSkip chain steps, and the Auth-I is not budgeted). A message the peer wrote
 * on its previous session in that session's ratchet 0 (it kept writing while the new DAKE ran) fails the same
 * way, and used to drop the new session's early messages queued behind it. No header field tells it from a
 * forgery: the new session's first messages carry a ratchet key the peer made fresh when it sent them
 * (interpretations.md §5: the Auth-I sender's first sending step is a DH step with new ECDH and DH keys),
 * unknown to us until one of them authenticates. What the queue does tell: the peer's ratchet 0 has ONE ECDH
 * key per session, and all the new session's early messages carry it (the peer cannot step past its ratchet 0
 * before reading one of ours, and we have sent none). So when the first message that fails, before any was
 * read, is followed by a ratchet-0 message under another key, its key may be the previous session's: that
 * key's messages are passed over — without work, as they cannot authenticate either — once. A second failing
 * key, a failure after a message was read, or one with no other key behind it stops the loop as before, so
 * queued forgeries cost at most two failed ratchet steps per Auth-I (one before), however many there are
 * (test/attacks/s15-early-old-session.test.ts).
 */
import { equalBytes } from '../bytes.js';
import { peekRatchetKey } from '../wire/data.js';

/** The ECDH key of a queued message of ratchet id 0 (a view), or undefined. */
function ratchetZeroKey(bytes: Uint8Array): Uint8Array | undefined {
  const k = peekRatchetKey(bytes);
  return k && k.ratchetId === 0 ? k.ecdh : undefined;
}

export class EarlyRatchetKeys {
  /** The ratchet-0 key that failed and is passed over; set at most once. */
  private passed: Uint8Array | undefined;

  /** `queued`: the encoded early messages, in the order they are read. */
  constructor(private readonly queued: readonly Uint8Array[]) {}

  /** Whether queued message `i` is under the key passed over (it cannot authenticate: no need to try). */
  underPassedKey(i: number): boolean {
    if (this.passed === undefined) return false;
    const k = ratchetZeroKey(this.queued[i]!);
    return k !== undefined && equalBytes(k, this.passed);
  }

  /**
   * Message `i` failed to authenticate. True when the loop may go on past it: nothing read yet (`readAny`
   * false), no key passed over before, it is in ratchet 0, and a later queued message is in ratchet 0 under
   * another key. Its key is then passed over from here on.
   */
  passOver(i: number, readAny: boolean): boolean {
    if (this.passed !== undefined || readAny) return false;
    const failed = ratchetZeroKey(this.queued[i]!);
    if (failed === undefined) return false;
    for (let j = i + 1; j < this.queued.length; j++) {
      const k = ratchetZeroKey(this.queued[j]!);
      if (k !== undefined && !equalBytes(k, failed)) {
        this.passed = failed;
        return true;
      }
    }
    return false;
  }
}
