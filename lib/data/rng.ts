/**
 * The seeded generator the samplers shuffle with (mulberry32, seeded through splitmix32 so
 * that nearby seeds give unrelated streams). Never `Math.random`: the same seed must give
 * the same batches. Its whole state is one 32-bit number ({@linkcode SeededRng.state}), so a
 * saved sampler can resume it exactly.
 *
 * @module
 */

/** Mixes a 32-bit value (splitmix32 finaliser) so that seeds 1, 2, 3 start far apart. */
export function mixSeed(a: number, b = 0): number {
  let z = (a + Math.imul(b + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded uniform generator with the helpers the samplers need. */
export class SeededRng {
  #state: number;

  /** @param seed Any integer; `stream` picks an independent stream for the same seed. */
  constructor(seed: number, stream = 0) {
    this.#state = mixSeed(seed >>> 0, stream);
  }

  /** The generator's whole state, a uint32: setting a saved value resumes the same stream. */
  get state(): number {
    return this.#state;
  }

  /** @throws {RangeError} When `value` is not an integer in [0, 2^32). */
  set state(value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`Cannot set the generator state: ${value} is not a uint32`);
    }
    this.#state = value;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `arr` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}
