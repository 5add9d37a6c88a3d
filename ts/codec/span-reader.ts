/**
 * A `Reader` that can also hand back the exact bytes it has consumed since a mark. Messages that embed a
 * Client Profile need the profile's received bytes verbatim (t hashes the full encoding, and the profile
 * signature covers the fields as sent), so they decode with this reader.
 */
import { copyBytes } from '../bytes.js';
import { Reader } from './primitives.js';

export class SpanReader extends Reader {
  constructor(
    private readonly source: Uint8Array,
    maxField?: number,
  ) {
    super(source, maxField);
  }

  /** A copy of the bytes from `start` (an earlier `offset`) up to the current position. */
  since(start: number): Uint8Array {
    // Not source.slice(): the source may be a host's Node Buffer, whose slice() is a view of the host's memory.
    return copyBytes(this.source.subarray(start, this.offset));
  }
}
