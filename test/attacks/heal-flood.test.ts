/**
 * Attack: using the self-repair to make us spin (issue 13). An adversary who can inject messages sends forged
 * `?OTR Error: ERROR_1` strings and garbage data messages under the peer's instance tag, as fast as it likes,
 * for 20 minutes of (injected) clock time. Every repair is a DAKE (ours and the honest peer's CPU), so the
 * number we start is held to limits.healBurst + elapsed × limits.healPerSecond, whether the adversary
 * swallows our Identity messages or lets them through to the honest peer; and the session survives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import type { Outcome } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { establish, makePair, pump } from '../helpers/session-pair.js';

const HOUR_MS = 20 * 60_000;
const STEP_MS = 20_000;
const ceiling = (elapsedMs: number) => DEFAULT_LIMITS.healBurst + Math.floor((elapsedMs / 1000) * DEFAULT_LIMITS.healPerSecond) + 1;
const identities = (o: Outcome) => o.toSend.filter((s) => s.startsWith('?OTR:') && dearmour(s)[2] === 0x35).length;

for (const be of BACKENDS) {
  for (const deliver of [false, true]) {
    test(`forged ERROR_1 and garbage every ${STEP_MS / 1000} s for 20 minutes: repairs held to the limit (${deliver ? 'Identities reach the peer' : 'Identities swallowed'}) [${be.name}]`, () => {
      const p = makePair(be, 600 + (deliver ? 1 : 0));
      establish(p);
      // A real data message of Bob's (inside a chain: no new ratchet key to compute) with its authenticator
      // broken: it decodes and fails the MAC.
      p.b.send('first of the chain');
      const real = dearmour(p.b.send('template').toSend[0]!);
      let dakes = 0;
      let throttled = 0;
      const start = p.clock();
      for (let t = 0; t < HOUR_MS; t += STEP_MS) {
        p.clock.advance(STEP_MS);
        const forged = p.a.receive('?OTR Error: ERROR_1: Unreadable message');
        const junk = real.slice();
        junk[junk.length - 5]! ^= 0xff;
        const garbage = [1, 2, 3].map(() => p.a.receive(armour(junk)));
        for (const o of [forged, ...garbage]) {
          dakes += identities(o);
          throttled += o.events.filter((e) => e.type === 'heal' && e.step === 'throttled').length;
          // The honest peer answers the repair DAKE when the adversary lets it through.
          if (deliver && identities(o) > 0) pump(p.a, p.b, { toSend: o.toSend.filter((s) => s.startsWith('?OTR:')), messages: [], events: [] });
        }
      }
      const bound = ceiling(p.clock() - start);
      assert.ok(dakes <= bound, `${dakes} repair DAKEs in 20 minutes, bound ${bound}`);
      assert.ok(dakes >= DEFAULT_LIMITS.healBurst, 'repairs do happen (the test can fail)');
      // Swallowed Identities leave a repair pending: it is retried no sooner than limits.healRetryMs.
      if (deliver) assert.ok(throttled > 0, 'the limit was reached and reported');
      // The session still works both ways.
      if (deliver) {
        assert.equal(pump(p.a, p.b, p.a.send('still here')).b.flatMap((o) => o.messages.map((m) => m.text)), ['still here']);
      }
      assert.equal(pump(p.b, p.a, p.b.send('and back')).b.flatMap((o) => o.messages.map((m) => m.text)), ['and back']);
    });
  }
}

test.run();
