/**
 * A stream of 32-bit dropout seeds shared by every `Dropout` of a model, so that one run seed
 * fixes every mask. Its state is one word, saved with checkpoints for exact resumption.
 *
 * @module
 */

import { Generator } from "./random.ts";

/**
 * Dropout seeds, drawn in call order: every {@linkcode Dropout} of a model draws from the
 * model's stream (`BertModel.seeds`), so the run seed fixes every mask.
 *
 * @example Same seed, same masks; `state` resumes a stream exactly
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeedStream } from "./seeds.ts";
 * const a = new SeedStream(42), b = new SeedStream(42);
 * assert.equal(a.next(), b.next());
 * const saved = a.state;
 * const next = a.next();
 * b.state = saved;
 * assert.equal(b.next(), next);
 * ```
 */
export class SeedStream {
  readonly #gen: Generator;

  /** A stream determined by `seed` (distinct from a {@linkcode Generator} of the same seed). */
  constructor(seed: number) {
    this.#gen = new Generator(seed ^ 0x5eed);
  }

  /** The next seed. */
  next(): number {
    return this.#gen.nextU32();
  }

  /** The stream position, for checkpoints. */
  get state(): number {
    return this.#gen.state;
  }

  set state(value: number) {
    this.#gen.state = value;
  }
}
