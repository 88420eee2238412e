/**
 * A stream of 32-bit dropout seeds shared by every `Dropout` of a model, so that one run seed
 * fixes every mask. Its state is one word, saved with checkpoints for exact resumption.
 *
 * @module
 */

import { Generator } from "./random.ts";

/** Dropout seeds, drawn in call order. */
export class SeedStream {
  readonly #gen: Generator;

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
