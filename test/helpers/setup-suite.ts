/**
 * A uvu suite whose `before` sets up something the tests need (a server, a browser). uvu swallows errors thrown
 * by hooks, so the setup's error is kept and every test rethrows it: a missing PostgreSQL or Chromium fails the
 * suite loudly instead of passing it empty.
 */
import { suite } from 'uvu';

export function setupSuite(name: string, setup: () => Promise<void>, teardown: () => Promise<void>) {
  const t = suite(name);
  let setupError: unknown;
  t.before(async () => {
    try {
      await setup();
    } catch (e) {
      setupError = e;
    }
  });
  t.after(teardown);
  return {
    test(testName: string, fn: () => Promise<void>): void {
      t(testName, async () => {
        if (setupError) throw setupError;
        await fn();
      });
    },
    run: () => t.run(),
  };
}
