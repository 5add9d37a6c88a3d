/**
 * The unencoded OTRv3 messages (otrv3-protocol.html §Unencoded messages): query messages, whitespace tags and
 * error messages. TODO(codec): the v4 codec's query/whitespace/error helpers replace these once they land.
 */
export const QUERY_V3 = '?OTRv3?';
export const ERROR_PREFIX = '?OTR Error:';

const WS_BASE = '\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20';
const WS_TAGS: Record<string, string> = {
  '\x20\x09\x20\x09\x20\x20\x09\x20': '1',
  '\x20\x20\x09\x09\x20\x20\x09\x20': '2',
  '\x20\x20\x09\x09\x20\x20\x09\x09': '3',
  '\x20\x20\x09\x09\x20\x09\x20\x20': '4',
};
export const WHITESPACE_TAG_V3 = WS_BASE + '\x20\x20\x09\x09\x20\x20\x09\x09';

/** The versions a query message offers ("1" for "?OTR?", then the digits of "v…?"), or null if none. */
export function queryVersions(text: string): string | null {
  const m = /\?OTR(\?)?(?:v([^?\s]*)\?)?/.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined)) return null;
  // "?OTR:", "?OTR|", "?OTR," and "?OTR Error" are not queries: the regex needs '?' or 'v…?' right after ?OTR.
  return (m[1] ? '1' : '') + (m[2] ?? '');
}

/** Finds a whitespace tag: returns the text without it and the versions it offers, or null. */
export function stripWhitespaceTag(text: string): { text: string; versions: string } | null {
  const at = text.indexOf(WS_BASE);
  if (at < 0) return null;
  let end = at + WS_BASE.length;
  let versions = '';
  for (;;) {
    const chunk = text.slice(end, end + 8);
    if (chunk.length < 8 || !/^[\x20\x09]{8}$/.test(chunk)) break;
    versions += WS_TAGS[chunk] ?? '';
    end += 8;
  }
  return { text: text.slice(0, at) + text.slice(end), versions };
}

export function isErrorMessage(text: string): boolean {
  return text.includes(ERROR_PREFIX);
}

/** The human-readable part of an error message. */
export function errorText(text: string): string {
  return text.slice(text.indexOf(ERROR_PREFIX) + ERROR_PREFIX.length).trim();
}

export const errorMessage = (what: string): string => `${ERROR_PREFIX} ${what}`;
