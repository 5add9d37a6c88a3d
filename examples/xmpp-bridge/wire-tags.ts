/**
 * Reads the instance tags off an OTR message as it crosses the bridge, without decrypting or validating
 * anything: the bridge uses them only to route (which XMPP resource an instance lives on), never to trust.
 *
 *   ?OTR:<base64>.                                    header: version u16, type u8, sender u32, receiver u32
 *   ?OTR|IIIIIIII|SSSSSSSS|RRRRRRRR,k,n,piece,        OTRv4 fragment (identifier, sender, receiver in hex)
 *   ?OTR|SSSSSSSS|RRRRRRRR,k,n,piece,                 OTRv3 fragment
 *
 * Anything else (queries, plaintext, error messages) has no tags: undefined.
 */
export interface WireTags {
  sender: number;
  receiver: number;
}

const FRAGMENT_V4 = /^\?OTR\|[0-9a-fA-F]{1,8}\|([0-9a-fA-F]{1,8})\|([0-9a-fA-F]{1,8}),/;
const FRAGMENT_V3 = /^\?OTR\|([0-9a-fA-F]{1,8})\|([0-9a-fA-F]{1,8}),/;

export function wireTags(text: string): WireTags | undefined {
  const f = FRAGMENT_V4.exec(text) ?? FRAGMENT_V3.exec(text);
  if (f) return { sender: parseInt(f[1]!, 16), receiver: parseInt(f[2]!, 16) };
  if (!text.startsWith('?OTR:')) return undefined;
  // 16 base64 characters are 12 bytes: enough for the 11-byte header.
  const head = Buffer.from(text.slice(5, 21), 'base64');
  if (head.length < 11) return undefined;
  return { sender: head.readUInt32BE(3), receiver: head.readUInt32BE(7) };
}

export const hexTag = (tag: number): string => tag.toString(16).padStart(8, '0');
