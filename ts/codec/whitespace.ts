/**
 * Whitespace tags (otrv4.md §Whitespace Tags; interpretations.md §7): a 16-character base tag of spaces and
 * tabs, then one 8-character tag per offered version. We build base + v3 + v4 with v4 LAST (otrr keeps only
 * the last version tag it sees) and put the tag at the start of the text, where otrr puts it; otr4j finds a
 * tag anywhere. On receipt the first base tag anywhere counts; the 8-character groups of spaces/tabs after
 * it are its version tags (unknown ones are skipped, as libotr does), and the whole tag is stripped.
 */
import { OtrArgumentError } from '../errors.js';

export const WS_BASE = '\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20';
export const WS_V1 = '\x20\x09\x20\x09\x20\x20\x09\x20';
export const WS_V2 = '\x20\x20\x09\x09\x20\x20\x09\x20';
export const WS_V3 = '\x20\x20\x09\x09\x20\x20\x09\x09';
export const WS_V4 = '\x20\x20\x09\x09\x20\x09\x20\x20';
const KNOWN: ReadonlyMap<string, number> = new Map([
  [WS_V1, 1],
  [WS_V2, 2],
  [WS_V3, 3],
  [WS_V4, 4],
]);

export interface WhitespaceTagged {
  /** Versions the tag offers, ascending. */
  readonly versions: number[];
  /** The text with the tag removed. */
  readonly text: string;
}

/** The tag for `versions` (3 and/or 4), v4 last. */
export function whitespaceTag(versions: readonly number[]): string {
  const vs = new Set(versions);
  if (vs.size === 0 || [...vs].some((v) => v !== 3 && v !== 4)) throw new OtrArgumentError('whitespace tag versions must be 3 and/or 4');
  return WS_BASE + (vs.has(3) ? WS_V3 : '') + (vs.has(4) ? WS_V4 : '');
}

/** `text` with the tag in front. */
export function tagPlaintext(text: string, versions: readonly number[]): string {
  return whitespaceTag(versions) + text;
}

function isSpaceOrTab8(s: string, at: number): boolean {
  if (at + 8 > s.length) return false;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/** Finds and strips the first whitespace tag; undefined when there is none. */
export function parseWhitespaceTag(text: string): WhitespaceTagged | undefined {
  const at = text.indexOf(WS_BASE);
  if (at < 0) return undefined;
  const versions = new Set<number>();
  let end = at + WS_BASE.length;
  while (isSpaceOrTab8(text, end)) {
    const v = KNOWN.get(text.slice(end, end + 8));
    if (v !== undefined) versions.add(v);
    end += 8;
  }
  return { versions: [...versions].sort((a, b) => a - b), text: text.slice(0, at) + text.slice(end) };
}
