/**
 * What a promise settled as, for the attack tests: `ok` (the caller's word for success) when it resolved, the
 * OtrError's code when it rejected typed, and `untyped <class>: <message>` otherwise — a string no assertion
 * expects, so an untyped failure fails the test and names itself. No Node imports: the browser pages use it too.
 */
import { OtrError } from '../../ts/errors.js';

export function settledAs(p: Promise<unknown>, ok = 'ok'): Promise<string> {
  return p.then(
    () => ok,
    (e: unknown) => (e instanceof OtrError ? e.code : `untyped ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`),
  );
}
