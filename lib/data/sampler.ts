/**
 * What every multi-task sampler shares: the interface a training loop or a notebook drives
 * (`nextBatch()`, async iteration over one epoch, `stats()`), epoch bookkeeping, per-task
 * counts; the per-task shuffled streams the samplers draw from are `task_stream.ts`. The four samplers are in
 * `samplers.ts` and `mt_uncertainty.ts` (docs/model.md §12).
 *
 * Randomness comes only from the seed: each task's stream and the task choice have their own
 * seeded generator, so the same seed and the same calls give the same batches. `saveState()`
 * captures every generator, order, position and counter as plain JSON, and `loadState()` puts
 * them back into a sampler built with the same sets and options: N batches, save, load in a
 * new process, N more batches gives the batches (and stats) of 2N batches straight.
 *
 * @module
 */

import {
  encodeBits,
  readSamplerState,
  SAMPLER_STATE_VERSION,
  type SamplerState,
  type SamplerStats,
  savedArray,
} from "./_sampler_state.ts";
import type { FeatureSet } from "./features.ts";
import { type Batch, type BatchItem, collateBatch } from "./loader.ts";
import type { TaskStream } from "./task_stream.ts";

/** The sampling modes of docs/model.md §12.1. */
export type SamplingMode = "sequential" | "uniform" | "proportional" | "mt-uncertainty";

/**
 * This port's default mode (docs/model.md §12.1): tasks take turns, one epoch = every example
 * once.
 */
export const DEFAULT_SAMPLING_MODE: SamplingMode = "sequential";

export {
  type JsonValue,
  SAMPLER_STATE_VERSION,
  type SamplerState,
  type SamplerStats,
  type SamplerTaskState,
  type TaskSamplerStats,
  type TaskStreamState,
} from "./_sampler_state.ts";

/** A multi-task training-batch source. */
export interface MultiTaskSampler extends AsyncIterable<Batch> {
  /** Which of the four samplers this is. */
  readonly mode: SamplingMode;
  /** Batches per epoch (docs/model.md §12.8 for MT-Uncertainty). */
  readonly stepsPerEpoch: number;
  /**
   * The next training batch, or null once the epoch is over; the call after a null starts
   * the next epoch (new shuffles).
   */
  nextBatch(): Promise<Batch | null>;
  /** The counters so far. */
  stats(): SamplerStats;
  /** Zeroes the counters (not the epoch position or the random state). */
  resetStats(): void;
  /**
   * Everything that decides the future batches and the stats, as plain JSON (for checkpoints).
   *
   * @internal
   */
  saveState(): SamplerState;
  /**
   * Restores a {@linkcode saveState} result into a sampler built with the same sets and
   * options; a refused state leaves the sampler unchanged.
   *
   * @internal
   * @throws {TypeError} When the mode, tasks, sizes or options differ, or the state is malformed.
   */
  loadState(state: SamplerState): void;
}

/** Options shared by all samplers. */
export interface SamplerOptions {
  /** Examples per training batch (`--per_device_train_batch_size`, 8 in HF 2.11). */
  batchSize: number;
  /** Seed of every shuffle and draw (`--seed`, 42 in HF 2.11). */
  seed: number;
}

/** Batches of `ceil(n / b)` for a task of n examples. */
export function batchesOf(size: number, batchSize: number): number {
  return Math.ceil(size / batchSize);
}

/**
 * The shared part of the samplers: argument checks, epoch and step counting, per-task
 * counters. Subclasses implement `startEpoch()` and `draw()`.
 */
export abstract class BaseSampler implements MultiTaskSampler {
  /** Which of the four samplers this is. */
  abstract readonly mode: SamplingMode;
  abstract readonly stepsPerEpoch: number;
  /** The training sets, in `--tasks` order. */
  readonly sets: readonly FeatureSet[];
  /** Examples per batch. */
  readonly batchSize: number;
  /** The seed of every draw. */
  readonly seed: number;
  #epoch = 0;
  #stepInEpoch = 0;
  #ended = true;
  #steps = 0;
  #drawn: number[];
  #batches: number[];
  #seen: Uint8Array[];
  #distinct: number[];
  #slot = new Map<number, number>();
  #busy = 0;

  /**
   * Checks the sets and options and sets up the counters.
   *
   * @throws {RangeError} For no tasks, an empty task, a bad batch size or a bad seed.
   * @throws {TypeError} When two sets share a task id or a set has no labels.
   */
  constructor(sets: readonly FeatureSet[], options: SamplerOptions) {
    if (sets.length === 0) throw new RangeError("Cannot build a sampler: there are no tasks");
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`Cannot build a sampler: batchSize is ${options.batchSize}`);
    }
    if (!Number.isInteger(options.seed)) {
      throw new RangeError(`Cannot build a sampler: seed is ${options.seed}, not an integer`);
    }
    sets.forEach((s, i) => {
      if (s.size === 0) throw new RangeError(`Cannot sample task "${s.task}": it has no examples`);
      if (!s.labelled) {
        throw new TypeError(
          `Cannot sample task "${s.task}" for training: its ${s.key.split} split has no labels`,
        );
      }
      if (this.#slot.has(s.taskId)) {
        throw new TypeError(`Cannot build a sampler: task id ${s.taskId} is given twice`);
      }
      this.#slot.set(s.taskId, i);
    });
    this.sets = sets;
    this.batchSize = options.batchSize;
    this.seed = options.seed;
    this.#drawn = sets.map(() => 0);
    this.#batches = sets.map(() => 0);
    this.#distinct = sets.map(() => 0);
    this.#seen = sets.map((s) => new Uint8Array(s.size));
  }

  /** Called at the start of each epoch. */
  protected abstract startEpoch(): void;
  /** The mode's own part of {@linkcode SamplerState}. */
  protected abstract saveModeState(): SamplerState["modeState"];
  /** Checks the mode's saved part (untrusted JSON) and returns the function that applies it. */
  protected abstract prepareModeRestore(saved: Record<string, unknown>): () => void;
  /** The next batch's examples, or null when the data-driven epoch is over. */
  protected abstract draw(): Promise<BatchItem[] | null> | BatchItem[] | null;

  #begin(): void {
    if (!this.#ended) return;
    this.#ended = false;
    this.#epoch++;
    this.#stepInEpoch = 0;
    this.startEpoch();
  }

  #finish(items: BatchItem[] | null): Batch | null {
    if (items === null || items.length === 0) {
      this.#ended = true;
      return null;
    }
    const batch = collateBatch(items);
    this.#stepInEpoch++;
    this.#steps++;
    for (const slice of batch.tasks) this.#batches[this.#slot.get(slice.taskId)!]++;
    for (const { features, index } of items) {
      const k = this.#slot.get(features.taskId)!;
      this.#drawn[k]++;
      if (this.#seen[k][index] === 0) {
        this.#seen[k][index] = 1;
        this.#distinct[k]++;
      }
    }
    return batch;
  }

  /** True when the fixed-length epoch has produced all its steps. */
  protected get epochFull(): boolean {
    return this.#stepInEpoch >= this.stepsPerEpoch;
  }

  /**
   * The next batch, or null at the end of an epoch (the next call starts a new one).
   */
  async nextBatch(): Promise<Batch | null> {
    this.#busy++;
    try {
      this.#begin();
      return this.#finish(this.epochFull ? null : await this.draw());
    } finally {
      this.#busy--;
    }
  }

  /** Sync {@linkcode nextBatch} for samplers whose `draw()` is sync. */
  protected nextBatchSyncImpl(): Batch | null {
    this.#begin();
    const items = this.epochFull ? null : this.draw();
    if (items instanceof Promise) {
      throw new TypeError(`Cannot draw "${this.mode}" batches synchronously`);
    }
    return this.#finish(items);
  }

  /** One epoch of batches. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    while (true) {
      const batch = await this.nextBatch();
      if (batch === null) return;
      yield batch;
    }
  }

  /** The slot of a task id in {@linkcode sets}. */
  protected slotOf(taskId: number): number {
    return this.#slot.get(taskId)!;
  }

  /**
   * The counters so far.
   */
  stats(): SamplerStats {
    const tasks = this.sets.map((s, k) => ({
      task: s.task,
      taskId: s.taskId,
      size: s.size,
      drawn: this.#drawn[k],
      distinct: this.#distinct[k],
      batches: this.#batches[k],
    }));
    const total = this.sets.reduce((a, s) => a + s.size, 0);
    return {
      mode: this.mode,
      epoch: this.#epoch,
      stepInEpoch: this.#stepInEpoch,
      steps: this.#steps,
      stepsPerEpoch: this.stepsPerEpoch,
      examplesDrawn: this.#drawn.reduce((a, b) => a + b, 0),
      tasks,
      dataFraction: this.#distinct.reduce((a, b) => a + b, 0) / total,
    };
  }

  /**
   * Zeroes the counters (not the epoch position or the random state).
   */
  resetStats(): void {
    this.#steps = 0;
    this.#drawn.fill(0);
    this.#batches.fill(0);
    this.#distinct.fill(0);
    for (const s of this.#seen) s.fill(0);
  }

  /**
   * Everything that decides the future batches and the stats, as plain JSON.
   *
   * @throws {Error} While a `nextBatch()` is still drawing (the state would be half a step).
   */
  saveState(): SamplerState {
    this.#assertIdle("save");
    return {
      version: SAMPLER_STATE_VERSION,
      mode: this.mode,
      batchSize: this.batchSize,
      seed: this.seed,
      stepsPerEpoch: this.stepsPerEpoch,
      epoch: this.#epoch,
      stepInEpoch: this.#stepInEpoch,
      ended: this.#ended,
      steps: this.#steps,
      tasks: this.sets.map((s, k) => ({
        task: s.task,
        taskId: s.taskId,
        size: s.size,
        drawn: this.#drawn[k],
        distinct: this.#distinct[k],
        batches: this.#batches[k],
        seen: encodeBits(this.#seen[k]),
      })),
      modeState: this.saveModeState(),
    };
  }

  /**
   * Restores a {@linkcode saveState} result (JSON round trips are fine) into this sampler,
   * which must be built with the same sets and options. Everything is checked before anything
   * changes, so a refused state leaves the sampler as it was. The MT-Uncertainty `lastStep`
   * is not part of the state and reads null until the next batch.
   *
   * @throws {TypeError} When the version, mode, tasks, sizes, batch size, seed or epoch length
   * differ, or the state is malformed. @throws {Error} While a `nextBatch()` is drawing.
   */
  loadState(state: SamplerState): void {
    this.#assertIdle("restore");
    const saved = readSamplerState(state, {
      mode: this.mode,
      batchSize: this.batchSize,
      seed: this.seed,
      stepsPerEpoch: this.stepsPerEpoch,
      tasks: this.sets,
    });
    const applyMode = this.prepareModeRestore(saved.modeState);
    this.#epoch = saved.epoch;
    this.#stepInEpoch = saved.stepInEpoch;
    this.#ended = saved.ended;
    this.#steps = saved.steps;
    saved.tasks.forEach((t, k) => {
      this.#drawn[k] = t.drawn;
      this.#batches[k] = t.batches;
      this.#distinct[k] = t.distinct;
      this.#seen[k] = t.seen;
    });
    applyMode();
  }

  /** Checks and restores the saved streams of {@linkcode TaskStream}s, one per task. */
  protected prepareStreamsRestore(streams: readonly TaskStream[], saved: unknown): () => void {
    const list = savedArray(saved, { field: "modeState.streams", length: streams.length });
    const apply = streams.map((st, k) => st.prepareRestore(list[k], `modeState.streams[${k}]`));
    return () => apply.forEach((f) => f());
  }

  #assertIdle(action: string): void {
    if (this.#busy > 0) {
      throw new Error(`Cannot ${action} the "${this.mode}" sampler state: a batch is being drawn`);
    }
  }
}
