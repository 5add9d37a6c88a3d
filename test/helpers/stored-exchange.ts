/**
 * Delivers a remote peer's messages to an account kept in a store and the replies back until both sides are
 * quiet, committing every outcome of the account (what a bridge does). Shared by the session-11 record-bound
 * attack tests.
 */
import type { Conversation, Outcome } from '../../ts/index.js';
import type { StoredAccount } from '../../ts/session/account-store.js';

/** Delivers `first` (the remote's messages) to `account`'s conversation with `peer`, and the replies back; the account's outcomes, in order. */
export async function exchangeStored(account: StoredAccount, peer: string, remote: Conversation, first: readonly string[]): Promise<Outcome[]> {
  const atAccount: Outcome[] = [];
  let toAccount = [...first];
  for (let guard = 0; toAccount.length > 0; guard++) {
    if (guard > 50) throw new Error('exchange did not settle');
    const toRemote: string[] = [];
    for (const m of toAccount) {
      const out = (await account.conversation(peer)).receive(m);
      await account.commit(out);
      atAccount.push(out);
      toRemote.push(...out.toSend);
    }
    toAccount = toRemote.flatMap((m) => remote.receive(m).toSend);
  }
  return atAccount;
}

/** `account`'s user starts OTR with `peer` (its outcome committed) and the DAKE runs to its end with `remote`. */
export async function startStored(account: StoredAccount, peer: string, remote: Conversation): Promise<void> {
  const out = (await account.conversation(peer)).start();
  await account.commit(out);
  await exchangeStored(account, peer, remote, out.toSend.flatMap((m) => remote.receive(m).toSend));
}
