/**
 * The library's seeded generator (initialisation, shuffling, dropout seeds). One generator per
 * run: the same seed gives the same weights, batches and dropout masks on the same adapter.
 * The state is one 32-bit word, so it can be saved in a checkpoint and restored exactly.
 *
 * @module
 */

/**
 * A seeded mulberry32 generator with Box–Muller normals. Not `Math.random`: the same seed gives
 * the same numbers on every platform, and `state` saves and restores the position exactly.
 *
 * @example Reproducible inputs for a kernel check
 * ```ts
 * import assert from "node:assert/strict";
 * import { Generator } from "./random.ts";
 * const x = new Float32Array(6), y = new Float32Array(6);
 * new Generator(2021).fillNormal(x, 1);
 * new Generator(2021).fillNormal(y, 1);
 * assert.deepEqual(x, y);
 * const rng = new Generator(7);
 * const saved = rng.state, first = rng.next();
 * rng.state = saved;
 * assert.equal(rng.next(), first);
 * ```
 */
export class Generator {
  #state: number;

  /** Starts at `seed`'s low 32 bits (as an unsigned integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The state, for checkpoints. */
  get state(): number {
    return this.#state;
  }

  set state(value: number) {
    this.#state = value >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fills `out` with N(0, std²) samples. */
  fillNormal(out: Float32Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      const u = 1 - this.next(), v = this.next();
      const r = std * Math.sqrt(-2 * Math.log(u));
      out[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
  }

  /** Shuffles `a` in place (Fisher–Yates). */
  shuffle<T>(a: T[] | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t as never;
    }
  }
}
