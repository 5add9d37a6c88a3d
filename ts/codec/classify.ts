/**
 * What an incoming transport message is, in the order otrv4.md prescribes (fragments before anything else,
 * §Receiving Fragments): fragment ("?OTR|" at the start), encoded message ("?OTR:" at the start), error
 * message ("?OTR Error:" at the start), query message (anywhere), whitespace-tagged plaintext (anywhere),
 * or plaintext. OTR-shaped input that does not parse (a broken fragment, bad base64) raises a typed error
 * rather than being shown as text; the session decides whether to answer it.
 */
import { OtrArgumentError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { dearmour, isEncoded } from './armour.js';
import { isErrorMessage, parseErrorMessage, type OtrErrorMessage } from './error-message.js';
import { isFragment, parseFragment, type Fragment } from './fragment.js';
import { parseQuery } from './query.js';
import { parseWhitespaceTag } from './whitespace.js';

export type Incoming =
  | { readonly kind: 'fragment'; readonly fragment: Fragment }
  | { readonly kind: 'encoded'; readonly bytes: Uint8Array }
  | { readonly kind: 'error'; readonly error: OtrErrorMessage }
  | { readonly kind: 'query'; readonly versions: number[] }
  | { readonly kind: 'whitespace'; readonly versions: number[]; readonly text: string }
  | { readonly kind: 'plaintext'; readonly text: string };

export function classifyIncoming(text: string, limits?: Partial<Limits>): Incoming {
  if (typeof text !== 'string') throw new OtrArgumentError('incoming message must be a string');
  // Only two bounds are read here: looked up field by field rather than merging the caller's limits over
  // DEFAULT_LIMITS, which copied the whole table (~150 fields, ~5.7 KB) on every incoming message.
  const maxFragmentChars = limits?.maxFragmentChars ?? DEFAULT_LIMITS.maxFragmentChars;
  const maxMessageChars = limits?.maxMessageChars ?? DEFAULT_LIMITS.maxMessageChars;
  if (isFragment(text)) return { kind: 'fragment', fragment: parseFragment(text, maxFragmentChars) };
  if (text.length > maxMessageChars) throw new OtrLimitError(`message of ${text.length} characters exceeds ${maxMessageChars}`);
  if (isEncoded(text)) return { kind: 'encoded', bytes: dearmour(text, maxMessageChars) };
  if (isErrorMessage(text)) return { kind: 'error', error: parseErrorMessage(text)! };
  const q = parseQuery(text);
  if (q) return { kind: 'query', versions: q.versions };
  const ws = parseWhitespaceTag(text);
  if (ws) return { kind: 'whitespace', versions: ws.versions, text: ws.text };
  return { kind: 'plaintext', text };
}
