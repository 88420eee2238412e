/**
 * `TaskStream`: one task's examples in a shuffled order, the source every sampler draws a
 * task's batches from, with its exact state for checkpoints.
 *
 * @module
 */

import { SeededRng } from "./rng.ts";
import { readStreamState, streamState, type TaskStreamState } from "./_sampler_state.ts";
import type { FeatureSet } from "./features.ts";

/**
 * One task's examples in a shuffled order, handed out `b` at a time like a PyTorch
 * `DataLoader` with a `RandomSampler` and no `drop_last`: the last batch of a pass may be
 * short, and a new pass reshuffles.
 */
export class TaskStream {
  /** The task's examples. */
  readonly features: FeatureSet;
  #rng: SeededRng;
  #order: Int32Array;
  #pos = 0;

  /** Shuffles the task's examples with a generator seeded by (`seed`, `stream`). */
  constructor(features: FeatureSet, seed: number, stream: number) {
    this.features = features;
    this.#rng = new SeededRng(seed, stream);
    this.#order = this.#rng.permutation(features.size);
  }

  /** Examples left in the current pass. */
  get remaining(): number {
    return this.#order.length - this.#pos;
  }

  /** Starts a new pass in a new order. */
  restart(): void {
    this.#rng.shuffle(this.#order);
    this.#pos = 0;
  }

  /** Up to `b` indices of the current pass; with `restart`, a spent pass restarts first. */
  take(b: number, restart: boolean): Int32Array {
    if (this.remaining === 0 && restart) this.restart();
    const end = Math.min(this.#order.length, this.#pos + b);
    const out = this.#order.slice(this.#pos, end);
    this.#pos = end;
    return out;
  }

  /** The stream's generator state, order and position. */
  saveState(): TaskStreamState {
    return streamState({ rng: this.#rng, order: this.#order, pos: this.#pos });
  }

  /**
   * Checks a saved position of this task's stream and returns the function that restores it,
   * so that a sampler can check all of a state before it changes anything.
   *
   * @param saved A {@linkcode saveState} result (from JSON: checked, not trusted).
   * @param field Where `saved` sits in the sampler state, for the error message.
   * @throws {TypeError} When `saved` is not a position in a pass over this task's examples.
   */
  prepareRestore(saved: unknown, field: string): () => void {
    const { rng, order, pos } = readStreamState(saved, { field, size: this.features.size });
    return () => {
      this.#rng.state = rng;
      this.#order = order;
      this.#pos = pos;
    };
  }
}
