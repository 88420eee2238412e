/**
 * The three label-free samplers (docs/model.md §12.1 to §12.4):
 *
 * - {@linkcode SequentialSampler} (the default): tasks in `--tasks` order, one batch each in
 *   turn; a task drops out when its data runs out; an epoch is every example once.
 * - {@linkcode UniformSampler} (`--uniform_mt_sampling` alone): each batch comes from a task
 *   chosen uniformly at random; a task whose pass is spent reshuffles and goes on.
 * - {@linkcode ProportionalSampler} (`--mt_sampling proportional`, the released code's real
 *   default): batches are consecutive slices of one shuffle of the pooled data, so tasks mix
 *   within a batch in proportion to their size; an epoch is every example once.
 *
 * MT-Uncertainty is in `mt_uncertainty.ts`; {@linkcode createSampler} builds any of the four.
 *
 * @module
 */

import { SeededRng } from "./rng.ts";
import { readStreamState, savedInt, streamState } from "./_sampler_state.ts";
import type { FeatureSet } from "./features.ts";
import type { Batch, BatchItem } from "./loader.ts";
import { MtUncertaintySampler, type MtUncertaintySamplerOptions } from "./mt_uncertainty.ts";
import {
  BaseSampler,
  batchesOf,
  type MultiTaskSampler,
  type SamplerOptions,
  type SamplerState,
  type SamplingMode,
} from "./sampler.ts";
import { TaskStream } from "./task_stream.ts";

function itemsOf(features: FeatureSet, idx: Int32Array): BatchItem[] {
  return Array.from(idx, (index) => ({ features, index }));
}

/**
 * Round-robin over the tasks: one batch of each task in `--tasks` order, skipping tasks whose
 * examples are all used, until every example has been used once.
 *
 * @example One epoch
 * ```ts ignore
 * const sampler = new SequentialSampler([cola, rte], { batchSize: 32, seed: 42 });
 * for await (const batch of sampler) train(batch);
 * console.log(sampler.stats().tasks.map((t) => t.drawn)); // [8551, 2490]
 * ```
 */
export class SequentialSampler extends BaseSampler {
  /** Always `sequential`. */
  readonly mode: SamplingMode = "sequential";
  /** `Σ_t ceil(n_t / b)`. */
  readonly stepsPerEpoch: number;
  #streams: TaskStream[];
  #turn = 0;

  /**
   * A sequential sampler over `sets` in the given order.
   *
   * @throws {RangeError|TypeError} As {@linkcode BaseSampler}.
   */
  constructor(sets: readonly FeatureSet[], options: SamplerOptions) {
    super(sets, options);
    this.stepsPerEpoch = sets.reduce((a, s) => a + batchesOf(s.size, this.batchSize), 0);
    this.#streams = sets.map((s, k) => new TaskStream(s, this.seed, k + 1));
  }

  /** Reshuffles every task and starts again at the first task. */
  protected startEpoch(): void {
    this.#turn = 0;
    for (const s of this.#streams) s.restart();
  }

  /** One batch of the next task that has examples left, or null. */
  protected draw(): BatchItem[] | null {
    const T = this.#streams.length;
    for (let tried = 0; tried < T; tried++) {
      const stream = this.#streams[this.#turn];
      this.#turn = (this.#turn + 1) % T;
      if (stream.remaining > 0) return itemsOf(stream.features, stream.take(this.batchSize, false));
    }
    return null;
  }

  /** The next task's turn and every task's stream. */
  protected saveModeState(): SamplerState["modeState"] {
    return { turn: this.#turn, streams: this.#streams.map((s) => s.saveState()) };
  }

  /** Checks and restores the turn and the streams. */
  protected prepareModeRestore(saved: Record<string, unknown>): () => void {
    const turn = savedInt(saved.turn, { field: "modeState.turn", max: this.#streams.length - 1 });
    const streams = this.prepareStreamsRestore(this.#streams, saved.streams);
    return () => {
      this.#turn = turn;
      streams();
    };
  }

  /** The next batch without awaiting (all draws here are synchronous). */
  nextBatchSync(): Batch | null {
    return this.nextBatchSyncImpl();
  }
}

/**
 * A task chosen uniformly at random for every batch. A task's examples are used in shuffled
 * passes; a spent pass reshuffles. An epoch has as many batches as a sequential epoch,
 * `Σ_t ceil(n_t / b)`, so the two modes train for the same number of steps.
 */
export class UniformSampler extends BaseSampler {
  /** Always `uniform`. */
  readonly mode: SamplingMode = "uniform";
  /** `Σ_t ceil(n_t / b)`, as many steps as a sequential epoch. */
  readonly stepsPerEpoch: number;
  #streams: TaskStream[];
  #choice: SeededRng;

  /**
   * A uniform sampler over `sets`.
   *
   * @throws {RangeError|TypeError} As {@linkcode BaseSampler}.
   */
  constructor(sets: readonly FeatureSet[], options: SamplerOptions) {
    super(sets, options);
    this.stepsPerEpoch = sets.reduce((a, s) => a + batchesOf(s.size, this.batchSize), 0);
    this.#streams = sets.map((s, k) => new TaskStream(s, this.seed, k + 1));
    this.#choice = new SeededRng(this.seed, 0);
  }

  /** Nothing to do: task passes restart on their own. */
  protected startEpoch(): void {}

  /** One batch of a task chosen uniformly at random. */
  protected draw(): BatchItem[] {
    const stream = this.#streams[this.#choice.int(this.#streams.length)];
    return itemsOf(stream.features, stream.take(this.batchSize, true));
  }

  /** The task chooser's generator and every task's stream. */
  protected saveModeState(): SamplerState["modeState"] {
    return { choice: this.#choice.state, streams: this.#streams.map((s) => s.saveState()) };
  }

  /** Checks and restores the chooser and the streams. */
  protected prepareModeRestore(saved: Record<string, unknown>): () => void {
    const choice = savedInt(saved.choice, { field: "modeState.choice", max: 0xffffffff });
    const streams = this.prepareStreamsRestore(this.#streams, saved.streams);
    return () => {
      this.#choice.state = choice;
      streams();
    };
  }

  /** The next batch without awaiting. */
  nextBatchSync(): Batch | null {
    return this.nextBatchSyncImpl();
  }
}

/**
 * HF's default path in the released code: one random permutation of the concatenated task
 * datasets, cut into batches of b (the last may be short). Batches mix tasks; each task
 * appears in proportion to its size; an epoch is every example once.
 */
export class ProportionalSampler extends BaseSampler {
  /** Always `proportional`. */
  readonly mode: SamplingMode = "proportional";
  /** `ceil(Σ_t n_t / b)`. */
  readonly stepsPerEpoch: number;
  #order: Int32Array;
  #starts: Int32Array;
  #pos = 0;
  #rng: SeededRng;

  /**
   * A proportional sampler over the pooled `sets`.
   *
   * @throws {RangeError|TypeError} As {@linkcode BaseSampler}.
   */
  constructor(sets: readonly FeatureSet[], options: SamplerOptions) {
    super(sets, options);
    this.#starts = new Int32Array(sets.length + 1);
    sets.forEach((s, k) => this.#starts[k + 1] = this.#starts[k] + s.size);
    const total = this.#starts[sets.length];
    this.stepsPerEpoch = batchesOf(total, this.batchSize);
    this.#rng = new SeededRng(this.seed, 0);
    // Replaced by a shuffle when the first epoch starts; a permutation, so it saves like one.
    this.#order = Int32Array.from({ length: total }, (_, i) => i);
  }

  /** Shuffles the pooled examples. */
  protected startEpoch(): void {
    this.#order = this.#rng.permutation(this.#order.length);
    this.#pos = 0;
  }

  #locate(g: number): BatchItem {
    let lo = 0, hi = this.sets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid] <= g) lo = mid;
      else hi = mid - 1;
    }
    return { features: this.sets[lo], index: g - this.#starts[lo] };
  }

  /** The next b pooled examples, or null when all are used. */
  protected draw(): BatchItem[] | null {
    if (this.#pos >= this.#order.length) return null;
    const end = Math.min(this.#order.length, this.#pos + this.batchSize);
    const items: BatchItem[] = [];
    for (let i = this.#pos; i < end; i++) items.push(this.#locate(this.#order[i]));
    this.#pos = end;
    return items;
  }

  /** The pooled order, its position and its generator. */
  protected saveModeState(): SamplerState["modeState"] {
    return streamState({ rng: this.#rng, order: this.#order, pos: this.#pos });
  }

  /** Checks and restores the pooled order, position and generator. */
  protected prepareModeRestore(saved: Record<string, unknown>): () => void {
    const { rng, order, pos } = readStreamState(saved, {
      field: "modeState",
      size: this.#order.length,
    });
    return () => {
      this.#rng.state = rng;
      this.#order = order;
      this.#pos = pos;
    };
  }

  /** The next batch without awaiting. */
  nextBatchSync(): Batch | null {
    return this.nextBatchSyncImpl();
  }
}

/** Options of {@linkcode createSampler}: `scorer` and the MT-U settings apply to `mt-uncertainty` only. */
export type CreateSamplerOptions =
  & SamplerOptions
  & Partial<Omit<MtUncertaintySamplerOptions, keyof SamplerOptions>>;

/**
 * Builds the sampler for a mode (docs/model.md §12.1). Every sampler yields padded multi-task
 * {@linkcode Batch}es through `nextBatch()` or `for await` (one epoch), counts what it drew
 * (`stats()`), and saves and restores its exact position (`saveState()`, `loadState()`).
 *
 * @example Two tasks, taking turns; resume from a saved state
 * ```ts
 * import assert from "node:assert/strict";
 * import { FeatureSet } from "./features.ts";
 * import { createSampler } from "./samplers.ts";
 * const set = (task: string, taskId: number, n: number) =>
 *   new FeatureSet(
 *     { task, taskId, split: "train", vocabHash: "-", doLowerCase: true, maxSeqLength: 8 },
 *     {
 *       offsets: Int32Array.from({ length: n + 1 }, (_, i) => 3 * i),
 *       inputIds: new Int32Array(3 * n).fill(5),
 *       tokenTypeIds: new Uint8Array(3 * n),
 *       labels: new Int32Array(n),
 *       skipped: 0,
 *       padId: 0,
 *     },
 *   );
 * const sets = [set("sst-2", 0, 10), set("rte", 1, 6)];
 * const sampler = createSampler("sequential", sets, { batchSize: 4, seed: 42 });
 * assert.equal(sampler.stepsPerEpoch, 5); // ceil(10 / 4) + ceil(6 / 4)
 * const first = await sampler.nextBatch();
 * assert.equal(first?.tasks[0].task, "sst-2");
 * const saved = JSON.stringify(sampler.saveState());
 * const next = await sampler.nextBatch();
 * const resumed = createSampler("sequential", sets, { batchSize: 4, seed: 42 });
 * resumed.loadState(JSON.parse(saved));
 * assert.deepEqual((await resumed.nextBatch())?.exampleIds, next?.exampleIds);
 * ```
 * @example MT-Uncertainty: the model scores one candidate batch per task
 * ```ts ignore
 * const sampler = createSampler("mt-uncertainty", trainSets, {
 *   batchSize: 32,
 *   seed: 12,
 *   scorer: async (pool) => {
 *     const { logits } = await noGrad(() => model.forward(pool));
 *     return await readFloats(pool.tasks.map((t) => logits.get(t.taskId)!));
 *   },
 * });
 * for await (const batch of sampler) await trainStep(batch);
 * console.log(sampler.stats().candidateFraction);
 * ```
 *
 * @param mode `sequential` (default in this port), `uniform`, `proportional` or `mt-uncertainty`.
 * @param sets The training feature sets, in `--tasks` order.
 * @param options Batch size and seed; MT-Uncertainty also needs `scorer`.
 * @throws {TypeError} When `mt-uncertainty` is asked for without a scorer.
 * @throws {RangeError} For an unknown mode, or as the sampler constructors.
 */
export function createSampler(
  mode: SamplingMode,
  sets: readonly FeatureSet[],
  options: CreateSamplerOptions,
): MultiTaskSampler {
  switch (mode) {
    case "sequential":
      return new SequentialSampler(sets, options);
    case "uniform":
      return new UniformSampler(sets, options);
    case "proportional":
      return new ProportionalSampler(sets, options);
    case "mt-uncertainty": {
      if (options.scorer === undefined) {
        throw new TypeError(
          `Cannot build the "mt-uncertainty" sampler: it needs a scorer that runs the model on the candidates`,
        );
      }
      return new MtUncertaintySampler(sets, { ...options, scorer: options.scorer });
    }
    default:
      throw new RangeError(
        `Cannot build a sampler for mode "${mode}": use "sequential", "uniform", "proportional" or "mt-uncertainty"`,
      );
  }
}
