/**
 * Seeded pseudo-random numbers for tests and benchmarks: the library's own generator
 * (mulberry32, `lib/nn/random.ts`) plus the draws tests need, so that every failure can be
 * reproduced from its seed. Never use `Math.random` in tests.
 *
 * @module
 */

import { Generator } from "../../lib/nn/random.ts";

/** A seeded generator with uniform, normal and array draws. */
export class Rng extends Generator {
  /** A uniform float in [lo, hi). */
  uniform(lo = -1, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** `n` uniform floats in [lo, hi) as float64. */
  array(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}
