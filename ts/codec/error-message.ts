/**
 * OTR error messages (otrv4.md §OTR Error Messages; interpretations.md §7): text starting with "?OTR Error:"
 * — only at the start, so an error cannot be embedded in another message — optionally with a code
 * "ERROR_N: " for localisation. otr4j sends "?OTR Error: ERROR_1: …"; otrr sends "?OTR Error:unreadable
 * message" with no space and no code, so the space is optional on receipt and the code is too.
 */
import { OtrArgumentError } from '../errors.js';

export const ERROR_PREFIX = '?OTR Error:';

export const OtrErrorCode = Object.freeze({
  /** The message is undecryptable. */
  unreadable: 1,
  /** The message arrived in a state that is not encrypted messages. */
  notInPrivateState: 2,
  /** The instance tags do not correspond. */
  malformed: 3,
} as const);
export type OtrErrorCodeNumber = (typeof OtrErrorCode)[keyof typeof OtrErrorCode];

const DEFAULT_TEXT: Record<OtrErrorCodeNumber, string> = {
  1: 'Unreadable message',
  2: 'Not in private state message',
  3: 'Malformed message',
};

export interface OtrErrorMessage {
  /** 1..3 when the sender gave a known ERROR_N code; another number for an unknown code; undefined for none. */
  readonly code?: number;
  /** The human-readable part (after the code, if any). */
  readonly text: string;
}

export function isErrorMessage(text: string): boolean {
  return text.startsWith(ERROR_PREFIX);
}

/** Parses an error message; undefined if `text` is not one. */
export function parseErrorMessage(text: string): OtrErrorMessage | undefined {
  if (!isErrorMessage(text)) return undefined;
  let rest = text.slice(ERROR_PREFIX.length);
  if (rest.startsWith(' ')) rest = rest.slice(1);
  const m = /^ERROR_(\d{1,4}):[ ]?/.exec(rest);
  if (!m) return { text: rest };
  return { code: Number(m[1]), text: rest.slice(m[0].length) };
}

/** "?OTR Error: ERROR_N: text" (otr4j's form, which otrr reads as plain error text). */
export function buildErrorMessage(code: OtrErrorCodeNumber, text?: string): string {
  if (!(code in DEFAULT_TEXT)) throw new OtrArgumentError('unknown OTR error code');
  return `${ERROR_PREFIX} ERROR_${code}: ${text ?? DEFAULT_TEXT[code]}`;
}
