/**
 * One SMP step per data message (session 13), for the OTRv4 session and the OTRv3 one alike. Every SMP TLV of
 * a message used to go to the state machine, so one message of many SMP1s bought that many proof
 * verifications (and, unexpected, that many aborts sent back): test/attacks/s13-dos-smp-tlvs. Aborts cost
 * nothing and are read as they come (an honest restart is an abort and an SMP1 in one message); the first
 * other SMP TLV is processed, the rest are counted and ignored.
 */
export class OneSmpStep {
  private taken = false;
  private ignored = 0;

  /** Whether this SMP TLV is processed; `isAbort` for the abort TLV. */
  admits(isAbort: boolean): boolean {
    if (isAbort) return true;
    if (this.taken) {
      this.ignored++;
      return false;
    }
    this.taken = true;
    return true;
  }

  /** The reason of the message's `ignored` event, or undefined when no SMP TLV was ignored. */
  ignoredReason(): string | undefined {
    return this.ignored > 0 ? `${this.ignored} further SMP TLVs in one data message (one SMP step per message)` : undefined;
  }
}
