/**
 * SMP state persistence: a versioned binary form built from the wire codecs (BYTE, DATA, POINT/SCALAR as
 * 57 raw bytes), so an exchange can survive a restart of the host and continue from the restored copy.
 * The bytes contain the exchange's secret scalars: the host must store them as it stores session keys.
 *
 *   BYTE format version (1) || BYTE phase || the phase's fields in the order of FIELDS below
 *
 * Decoding is strict (exact lengths, known phase, no trailing bytes, question within its limit) and throws
 * OtrDecodeError on anything else; it does not re-validate points (that needs the backend, and the bytes
 * come from our own storage, not from the peer).
 */
import { Reader, Writer, decodeAll } from '../codec/primitives.js';
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { SmpPhase, SmpState } from './state.js';
import { initialSmpState } from './state.js';

const FORMAT_VERSION = 1;
const PHASES: readonly SmpPhase[] = ['idle', 'asked', 'expect2', 'expect3', 'expect4'];

/** Per phase, the 57-byte fields in stored order ('asked' also stores its question first, as DATA). */
const FIELDS: Readonly<Record<SmpPhase, readonly string[]>> = {
  idle: [],
  asked: ['g2a', 'g3a'],
  expect2: ['x', 'a2', 'a3'],
  expect3: ['g3a', 'g2', 'g3', 'b3', 'pb', 'qb'],
  expect4: ['g3b', 'paPb', 'qaQb', 'a3'],
};

export function encodeSmpState(s: SmpState): Uint8Array {
  const w = new Writer(8 + 6 * 57);
  w.byte(FORMAT_VERSION).byte(PHASES.indexOf(s.phase));
  if (s.phase === 'asked') w.data(s.question);
  const rec = s as unknown as Record<string, Uint8Array>;
  for (const name of FIELDS[s.phase]) w.raw(rec[name]!.length === 57 ? rec[name]! : badField(name));
  return w.finish();
}

function badField(name: string): never {
  throw new OtrDecodeError(`SMP state field ${name} is not 57 bytes`, 'INVALID_ARGUMENT');
}

export function decodeSmpState(bytes: Uint8Array, maxQuestionBytes: number = DEFAULT_LIMITS.maxSmpQuestionBytes): SmpState {
  return decodeAll(
    bytes,
    (r: Reader) => {
      const version = r.byte();
      if (version !== FORMAT_VERSION) throw new OtrDecodeError(`unknown SMP state format ${version}`);
      const phase = PHASES[r.byte()];
      if (phase === undefined) throw new OtrDecodeError('unknown SMP state phase');
      if (phase === 'idle') return initialSmpState();
      const out: Record<string, unknown> = { phase };
      if (phase === 'asked') out.question = r.data('SMP question', maxQuestionBytes);
      for (const name of FIELDS[phase]) out[name] = r.raw(57, name);
      return out as unknown as SmpState;
    },
    'SMP state',
  );
}
