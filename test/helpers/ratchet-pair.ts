/**
 * Two ratchets as a finished DAKE leaves them, from a seed: Alice received Auth-I (she sends first), Bob sent
 * it. The tests drive the ratchet alone with these, without a DAKE in front.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { dhKeyPair } from '../../ts/crypto/dh.js';
import { generateEcdh } from '../../ts/crypto/ecdh.js';
import { initRatchetAsAuthIReceiver, initRatchetAsAuthISender, type RatchetState } from '../../ts/ratchet/index.js';
import { seededRandom } from './rng.js';

export function seededRatchetPair(b: CryptoBackend, seed: number): { alice: RatchetState; bob: RatchetState; rnd: (n: number) => Uint8Array } {
  const rnd = seededRandom(seed);
  const prevRoot = rnd(64);
  const aE = generateEcdh(b, rnd);
  const aD = dhKeyPair(b, rnd);
  const bE = generateEcdh(b, rnd);
  const bD = dhKeyPair(b, rnd);
  const alice = initRatchetAsAuthIReceiver(b, { prevRoot, ourEcdh: aE, ourDh: aD, theirEcdh: bE.public, theirDh: bD.public });
  const bob = initRatchetAsAuthISender(b, { prevRoot, ourEcdh: bE, ourDh: bD, theirEcdh: aE.public, theirDh: aD.public });
  return { alice, bob, rnd };
}
