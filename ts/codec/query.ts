/**
 * Query messages (otrv4.md §Query Messages; interpretations.md §7). "?OTRv" then one character per offered
 * version then "?", anywhere in the text (they may hide in an HTML attribute). The OTRv1 form "?OTR?"
 * (optionally followed by "v<versions>?", as libotr sent "?OTR?v2?") is recognised so that it is not shown as
 * text, and reports version 1. Characters other than digits are future versions we ignore ("?OTRv45x?").
 * otrr and otr4j accept any digit order; so do we.
 */
import { OtrArgumentError } from '../errors.js';

const MARK = '?OTR';
/** No real query lists more version characters than this; bounds the scan for the closing '?'. */
const MAX_VERSION_CHARS = 32;

export interface QueryMessage {
  /** Offered versions, ascending, without duplicates (digits only). */
  readonly versions: number[];
  /** Where the query starts in the text. */
  readonly offset: number;
}

function digits(s: string, out: Set<number>): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out.add(c - 48);
  }
}

/** The first query message in `text`, or undefined. */
export function parseQuery(text: string): QueryMessage | undefined {
  for (let at = text.indexOf(MARK); at >= 0; at = text.indexOf(MARK, at + 1)) {
    const next = text[at + MARK.length];
    const versions = new Set<number>();
    let p = at + MARK.length;
    if (next === '?') {
      versions.add(1);
      p++;
      if (text[p] !== 'v') return { versions: [...versions], offset: at };
    } else if (next !== 'v') continue;
    const close = text.indexOf('?', p + 1);
    if (close < 0 || close - (p + 1) > MAX_VERSION_CHARS) continue;
    digits(text.slice(p + 1, close), versions);
    return { versions: [...versions].sort((a, b) => a - b), offset: at };
  }
  return undefined;
}

/**
 * "?OTRv34?" (versions ascending, as otr4j sends) followed by an optional explanation for people whose
 * client does not speak OTR. The explanation must not identify the participants (otrv4.md §Query Messages).
 */
export function buildQuery(versions: readonly number[], explanation = ''): string {
  const vs = [...new Set(versions)].sort((a, b) => a - b);
  if (vs.length === 0 || vs.some((v) => v !== 3 && v !== 4)) throw new OtrArgumentError('query versions must be 3 and/or 4');
  if (explanation.includes('?OTR')) throw new OtrArgumentError('explanation must not contain an OTR marker');
  return `?OTRv${vs.join('')}?` + (explanation ? ' ' + explanation : '');
}
