/**
 * The SMP TLV types (otrv4.md §TLV Record Types; interpretations.md §9): types 2–5 carry SMP messages 1–4,
 * type 6 is the abort. OTRv3's type 7 (SMP message 1Q) does not exist in OTRv4: the question travels in
 * SMP message 1 itself. The numbers live once, in the shared TLV table of ts/wire/tlv.ts.
 */
import { TlvType } from '../wire/tlv.js';

export const SmpTlvType = Object.freeze({
  smp1: TlvType.smp1,
  smp2: TlvType.smp2,
  smp3: TlvType.smp3,
  smp4: TlvType.smp4,
  abort: TlvType.smpAbort,
} as const);
export type SmpTlvTypeId = (typeof SmpTlvType)[keyof typeof SmpTlvType];

/** True for the five TLV types this module handles. */
export function isSmpTlvType(t: number): t is SmpTlvTypeId {
  return t >= SmpTlvType.smp1 && t <= SmpTlvType.abort;
}
