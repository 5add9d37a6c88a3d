/**
 * The SMP TLV types (otrv4.md §TLV Record Types; interpretations.md §9): types 2–5 carry SMP messages 1–4,
 * type 6 is the abort. OTRv3's type 7 (SMP message 1Q) does not exist in OTRv4: the question travels in
 * SMP message 1 itself.
 *
 * Kept private to ts/smp until ts/wire/tlv.ts exports the shared TLV table; then this file should re-export
 * from there instead of defining the numbers a second time.
 */
export const SmpTlvType = Object.freeze({
  smp1: 2,
  smp2: 3,
  smp3: 4,
  smp4: 5,
  abort: 6,
} as const);
export type SmpTlvTypeId = (typeof SmpTlvType)[keyof typeof SmpTlvType];

/** True for the five TLV types this module handles. */
export function isSmpTlvType(t: number): t is SmpTlvTypeId {
  return t >= SmpTlvType.smp1 && t <= SmpTlvType.abort;
}
