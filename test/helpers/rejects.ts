/** Asserting typed failures: the call must throw an OtrError (with `code` when given), never anything else. */
import * as assert from 'uvu/assert';
import { OtrError } from '../../ts/errors.js';

export function rejects(fn: () => unknown, code?: string): OtrError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof OtrError)) throw new Error(`untyped error: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    if (code) assert.is(e.code, code, e.message);
    return e;
  }
  throw new Error('expected an OtrError');
}

export async function rejectsAsync(p: Promise<unknown>, code?: string): Promise<OtrError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OtrError)) throw new Error(`untyped error: ${(e as Error)?.message}`);
    if (code) assert.is(e.code, code, e.message);
    return e;
  }
  throw new Error('expected an OtrError');
}
