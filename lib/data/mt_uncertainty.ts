/**
 * MT-Uncertainty sampling as the released code does it (docs/model.md §12.5, §12.6), extended to
 * every head kind (§12.10):
 *
 * 1. take the next batch of every task (a spent task reshuffles and restarts): T·b candidates;
 * 2. run the model on them without gradients (the caller's `scorer`) to get each task's logits;
 * 3. normalised entropy Ĥ(x) of each candidate example, in [0, 1] for every head kind
 *    (`mt_uncertainty_score.ts`: classes, mean token tags, start and end, choices); a
 *    regression head gives 0;
 * 4. H̄_t = mean of Ĥ over task t's candidates, Ĥ_max = max_t H̄_t (STS-B's 0 included);
 * 5. score s(x) = Ĥ(x) · H̄_t / Ĥ_max;
 * 6. when both `sts-b` and `mrpc` are trained, the first k STS-B candidates take the scores of
 *    the first k MRPC candidates (k = the smaller count), since regression entropy is 0;
 * 7. keep the top min(b, T·b) candidates (ties go to the earlier candidate); the rest are
 *    dropped. A multiple-choice example is one candidate, its choice rows kept or dropped together.
 *
 * `scoreMode: "paper"` uses the paper's U(x) = H(x) / (Ĥ · H'_t) instead, with H'_t the entropy
 * of a uniform distribution over the candidate's outcomes and Ĥ the largest per-task mean of the
 * raw entropy; dividing every score by the same Ĥ cannot change the ranking, so this selects by
 * Ĥ(x) alone. It does not borrow MRPC scores unless asked to.
 *
 * When every candidate has zero entropy (Ĥ_max = 0) the code would divide 0 by 0 and rank
 * NaNs; here all scores are 0 and the earliest candidates are kept.
 *
 * @module
 */

import { refuseState, savedArray, savedInt } from "./_sampler_state.ts";
import type { FeatureSet } from "./features.ts";
import { type Batch, type BatchItem, collateBatch } from "./loader.ts";
import {
  type MtUncertaintyScoreOptions,
  type MtUncertaintyScores,
  mtUncertaintyScores,
  poolGroups,
  selectTopK,
} from "./mt_uncertainty_score.ts";
import { headKind } from "./tasks.ts";
import {
  BaseSampler,
  batchesOf,
  type SamplerOptions,
  type SamplerState,
  type SamplerStats,
  type SamplingMode,
} from "./sampler.ts";
import { TaskStream } from "./task_stream.ts";

export {
  type CandidateGroup,
  type MtUncertaintyScoreMode,
  type MtUncertaintyScoreOptions,
  type MtUncertaintyScores,
  mtUncertaintyScores,
  selectTopK,
  softmaxEntropy,
} from "./mt_uncertainty_score.ts";

/**
 * Runs the model on the candidate pool without gradients and returns, for each entry of
 * `candidates.tasks` (in that order), that task's logits row-major in its head's shape:
 * `[n_t, C_t]` (classification), `[n_t, T, C_t]` (token classification), `[n_t, T, 2]` (span
 * extraction), `[n_examples, choices]` (multiple choice), T = `candidates.seqLen`. It must not
 * look at the labels. The original leaves dropout on here (train mode).
 */
export type CandidateScorer = (
  candidates: Batch,
) => Promise<ReadonlyArray<ArrayLike<number>>> | ReadonlyArray<ArrayLike<number>>;

/** Options of {@linkcode MtUncertaintySampler}. */
export interface MtUncertaintySamplerOptions extends SamplerOptions, MtUncertaintyScoreOptions {
  /** Runs the model on the candidates, without gradients. */
  scorer: CandidateScorer;
  /** `--uniform_mt_sampling`: the released code's shorter epoch (divided by b once more). */
  uniformMtSampling?: boolean;
  /** `--percent_of_max_data_size` (default 1; not clamped, as in the original). */
  percentOfMaxDataSize?: number;
}

/** What the last MT-Uncertainty step saw and chose, for notebooks and tests. */
export interface MtUncertaintyStep {
  /** The candidate pool the scorer saw. */
  candidates: Batch;
  /** Scores etc., candidates in `candidates.tasks` order. */
  result: MtUncertaintyScores;
  /** Score of each candidate, in pool order (a multiple-choice example is one candidate). */
  scores: Float64Array;
  /** Score of each row of `candidates` (a multiple-choice example's rows share its score). */
  rowScores: Float64Array;
  /** Candidates kept (indices into `scores`), best first. */
  selected: Int32Array;
}

/**
 * Epoch length of the MT-Uncertainty loader (docs/model.md §12.8):
 * `int(p · max_t ceil(n_t/b) · T)`, or with `--uniform_mt_sampling`
 * `int(p · max_t ceil(n_t/b) · T / b)`, in the original's order of operations.
 */
export function mtUncertaintyEpochSteps(
  sizes: readonly number[],
  options: { batchSize: number; uniformMtSampling?: boolean; percentOfMaxDataSize?: number },
): number {
  const p = options.percentOfMaxDataSize ?? 1, b = options.batchSize, T = sizes.length;
  const maxBatches = Math.max(...sizes.map((n) => batchesOf(n, b)));
  return Math.trunc(options.uniformMtSampling ? (p * maxBatches * T) / b : maxBatches * T * p);
}

/**
 * The MT-Uncertainty sampler. Each `nextBatch()` scores one candidate batch per task with the
 * caller's model and returns the b most uncertain candidates (mixed tasks, in pool order).
 *
 * @example
 * ```ts ignore
 * const sampler = new MtUncertaintySampler(trainSets, {
 *   batchSize: 32, seed: 12,
 *   scorer: (pool) => noGrad(() => model.logitsPerTask(pool)),
 * });
 * for await (const batch of sampler) await trainStep(batch);
 * console.log(sampler.stats().candidateFraction, sampler.stats().dataFraction);
 * ```
 */
export class MtUncertaintySampler extends BaseSampler {
  /** Always `mt-uncertainty`. */
  readonly mode: SamplingMode = "mt-uncertainty";
  /** docs/model.md §12.8, see {@linkcode mtUncertaintyEpochSteps}. */
  readonly stepsPerEpoch: number;
  /** The score form and whether STS-B borrows MRPC scores. */
  readonly scoreOptions: Readonly<MtUncertaintyScoreOptions>;
  #scorer: CandidateScorer;
  #streams: TaskStream[];
  #candidates: number[];
  #last: MtUncertaintyStep | null = null;

  /**
   * An MT-Uncertainty sampler over `sets` in `--tasks` order.
   * @throws {RangeError} When `percentOfMaxDataSize` is not positive or gives an empty epoch,
   * or as {@linkcode BaseSampler}.
   */
  constructor(sets: readonly FeatureSet[], options: MtUncertaintySamplerOptions) {
    super(sets, options);
    const p = options.percentOfMaxDataSize ?? 1;
    if (!(p > 0)) {
      throw new RangeError(
        `Cannot build the "mt-uncertainty" sampler: percentOfMaxDataSize is ${p}`,
      );
    }
    this.stepsPerEpoch = mtUncertaintyEpochSteps(sets.map((s) => s.size), options);
    if (this.stepsPerEpoch < 1) {
      throw new RangeError(
        `Cannot build the "mt-uncertainty" sampler: percentOfMaxDataSize ${p} with batch size ${this.batchSize} gives an epoch of 0 steps`,
      );
    }
    this.scoreOptions = Object.freeze({
      scoreMode: options.scoreMode ?? "code",
      borrowStsbFromMrpc: options.borrowStsbFromMrpc ?? (options.scoreMode ?? "code") === "code",
    });
    this.#scorer = options.scorer;
    this.#streams = sets.map((s, k) => new TaskStream(s, this.seed, k + 1));
    this.#candidates = sets.map(() => 0);
  }

  /** The last step's candidates, scores and selection (null before the first). */
  get lastStep(): MtUncertaintyStep | null {
    return this.#last;
  }

  /** Nothing to do: the epoch is a fixed number of steps and task passes restart on their own. */
  protected startEpoch(): void {}

  /** Scores one candidate batch per task and keeps the top b, in pool order. */
  protected async draw(): Promise<BatchItem[]> {
    const pool: BatchItem[] = [];
    for (const stream of this.#streams) {
      for (const index of stream.take(this.batchSize, true)) {
        pool.push({ features: stream.features, index });
      }
    }
    const candidates = collateBatch(pool);
    const { groups, rows } = poolGroups(candidates, await this.#scorer(candidates), (slice) => ({
      kind: headKind(slice.task),
      numLabels: this.sets[this.slotOf(slice.taskId)].numLabels,
    }));
    candidates.tasks.forEach((slice, g) =>
      this.#candidates[this.slotOf(slice.taskId)] += rows[g].length
    );
    const result = mtUncertaintyScores(groups, this.scoreOptions);
    // Candidate k of the pool is pool[k]; its rows follow those of pool[0 … k-1].
    const firstRows = new Int32Array(pool.length + 1);
    pool.forEach((item, k) => firstRows[k + 1] = firstRows[k] + item.features.choices);
    const itemOfRow = new Map(Array.from(firstRows.subarray(0, pool.length), (r, k) => [r, k]));
    const scores = new Float64Array(pool.length);
    const rowScores = new Float64Array(candidates.size);
    let at = 0;
    rows.forEach((group) => {
      for (const candidateRows of group) {
        scores[itemOfRow.get(candidateRows[0])!] = result.scores[at];
        for (const r of candidateRows) rowScores[r] = result.scores[at];
        at++;
      }
    });
    const selected = selectTopK(scores, Math.min(this.batchSize, pool.length));
    this.#last = { candidates, result, scores, rowScores, selected };
    return Array.from(selected).sort((a, b) => a - b).map((k) => pool[k]);
  }

  /** Base counters plus candidates seen and used per task. */
  override stats(): SamplerStats {
    const base = super.stats();
    base.tasks.forEach((t, k) => t.candidates = this.#candidates[k]);
    const seen = this.#candidates.reduce((a, b) => a + b, 0);
    return {
      ...base,
      candidatesSeen: seen,
      candidatesUsed: base.examplesDrawn,
      candidateFraction: seen === 0 ? 0 : base.examplesDrawn / seen,
    };
  }

  /** Zeroes the counters, candidates included. */
  override resetStats(): void {
    super.resetStats();
    this.#candidates.fill(0);
  }

  /** Every task's stream, the candidate counts, and the score options (checked on restore). */
  protected saveModeState(): SamplerState["modeState"] {
    return {
      streams: this.#streams.map((s) => s.saveState()),
      candidates: [...this.#candidates],
      ...this.scoreOptions,
    };
  }

  /** Checks the score options and restores the streams and candidate counts. */
  protected prepareModeRestore(saved: Record<string, unknown>): () => void {
    for (const [key, value] of Object.entries(this.scoreOptions)) {
      if (saved[key] !== value) {
        refuseState(
          `"${key}" is ${JSON.stringify(saved[key])} there and ${JSON.stringify(value)} here`,
        );
      }
    }
    const field = "modeState.candidates";
    const candidates = savedArray(saved.candidates, { field, length: this.sets.length })
      .map((c, k) => savedInt(c, { field: `${field}[${k}]` }));
    const streams = this.prepareStreamsRestore(this.#streams, saved.streams);
    return () => {
      this.#candidates = candidates;
      this.#last = null;
      streams();
    };
  }
}
