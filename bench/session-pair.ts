/**
 * One established conversation for the bench scripts that measure a message path on their own (bench/alloc.ts,
 * bench/message-ab.ts): the DAKE `a.start()` begins, every message delivered until neither side answers. Typed
 * structurally, so a Conversation of any build (the A/B scripts import two) fits.
 */
export interface BenchConversation {
  readonly state: string;
  start(): { toSend: string[] };
  receive(text: string): { toSend: string[] };
}

/** Runs the DAKE between `a` and `b`; throws (naming `what`) unless `a` ends encrypted. */
export function completeDake<C extends BenchConversation>(a: C, b: C, what: string): void {
  let queue = a.start().toSend.map((text) => [b, text] as const);
  while (queue.length) {
    const next: (readonly [C, string])[] = [];
    for (const [to, text] of queue) for (const t of to.receive(text).toSend) next.push([to === b ? a : b, t]);
    queue = next;
  }
  if (a.state !== 'ENCRYPTED_MESSAGES') throw new Error(`${what}: DAKE failed`);
}
