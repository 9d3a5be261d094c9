/** Seeded randomness, so that every sample, bootstrap and clustering is reproducible. */

/** Uniform [0, 1) generator. */
export type Rng = () => number;

/** mulberry32: a small, fast, seeded 32-bit PRNG. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller, cosine branch; two uniforms per draw). */
export function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
}

/** `k` of the indices 0..n−1 without replacement, in draw order (a partial Fisher–Yates shuffle: k draws). */
export function sampleIndices(rng: Rng, n: number, k: number): number[] {
  const m = Math.min(k, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, m);
}
