/**
 * Seeded PRNG (src/random.ts's mulberry32) with a Box–Muller normal sampler that keeps the sine branch for the next
 * draw (the fixture weights of scripts/make-tiny-gpt2.ts and bench/random-llama.ts depend on this exact sequence).
 */
import { mulberry32, type Rng } from '../../src/random.js';

export class Prng {
  private readonly uniform: Rng;
  private spare: number | null = null;

  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uniform();
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` float32 values mean + std * N(0, 1). */
  normals(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }
}
