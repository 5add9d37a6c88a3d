/** BigInt number theory for the JS backend (and the OTRv3 DSA code). Variable time: public or fallback use. */

/** base^exp mod m by left-to-right square-and-multiply with a 4-bit window. */
export function modPowBig(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  base %= m;
  if (base < 0n) base += m;
  if (exp === 0n) return 1n;
  // Precompute base^0 .. base^15.
  const table: bigint[] = [1n, base];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * base) % m);
  const hex = exp.toString(16);
  let r = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
    }
    const d = parseInt(hex[i]!, 16);
    if (d !== 0) r = (r * table[d]!) % m;
  }
  return r;
}

/** Jacobi symbol (a | n) for odd n > 0, by the binary algorithm (quadratic reciprocity). */
export function jacobi(a: bigint, n: bigint): -1 | 0 | 1 {
  if (n <= 0n || (n & 1n) === 0n) throw new RangeError('jacobi: n must be odd and positive');
  a %= n;
  if (a < 0n) a += n;
  let t = 1;
  while (a !== 0n) {
    while ((a & 1n) === 0n) {
      a >>= 1n;
      const r = n & 7n;
      if (r === 3n || r === 5n) t = -t;
    }
    [a, n] = [n, a];
    if ((a & 3n) === 3n && (n & 3n) === 3n) t = -t;
    a %= n;
  }
  return n === 1n ? (t as -1 | 1) : 0;
}

/** Modular inverse by the extended Euclidean algorithm; throws if not invertible. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const qt = r0 / r1;
    [r0, r1] = [r1, r0 - qt * r1];
    [s0, s1] = [s1, s0 - qt * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}
