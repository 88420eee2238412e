/**
 * MT-Uncertainty sampling exactly as the released code does it (docs/model.md §12.5,
 * §12.6):
 *
 * 1. take the next batch of every task (a spent task reshuffles and restarts): T·b candidates;
 * 2. run the model on them without gradients (the caller's `scorer`) to get each task's logits;
 * 3. normalised entropy Ĥ(x) = H(softmax(z)) / (ln C_t + 1e-5), natural log; a regression
 *    head (C_t = 1) gives 0;
 * 4. H̄_t = mean of Ĥ over task t's candidates, Ĥ_max = max_t H̄_t (STS-B's 0 included);
 * 5. score s(x) = Ĥ(x) · H̄_t / Ĥ_max;
 * 6. when both `sts-b` and `mrpc` are trained, the first k STS-B candidates take the scores of
 *    the first k MRPC candidates (k = the smaller count), since regression entropy is 0;
 * 7. keep the top min(b, T·b) candidates (ties go to the earlier candidate); the rest are dropped.
 *
 * `scoreMode: "paper"` uses the paper's U(x) = H(x) / (Ĥ · H'_t) instead, with H'_t = ln C_t
 * (the entropy of a uniform C_t-way distribution) and Ĥ the largest per-task mean of the raw
 * entropy; dividing every score by the same Ĥ cannot change the ranking, so this selects by
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
import { glueTwinOf } from "./tasks.ts";
import {
  BaseSampler,
  batchesOf,
  type SamplerOptions,
  type SamplerState,
  type SamplerStats,
  type SamplingMode,
} from "./sampler.ts";
import { TaskStream } from "./task_stream.ts";

/** Which MT-Uncertainty score to rank by (`--mt_uncertainty_score`). */
export type MtUncertaintyScoreMode = "code" | "paper";

/** One task's candidates for {@linkcode mtUncertaintyScores}. */
export interface CandidateGroup {
  /** Task name (`sts-b` and `mrpc` matter for the borrowing). */
  task: string;
  /** C_t, outputs of the task's head (1 = regression). */
  numLabels: number;
  /** `[n_t, C_t]` row-major logits. */
  logits: ArrayLike<number>;
}

/** Options of {@linkcode mtUncertaintyScores}. */
export interface MtUncertaintyScoreOptions {
  /** `code` (default, the released score) or `paper`. */
  scoreMode?: MtUncertaintyScoreMode;
  /** Give STS-B the scores of MRPC (default: true in `code` mode, false in `paper` mode). */
  borrowStsbFromMrpc?: boolean;
}

/** Every quantity of the selection, candidates in group order (groups concatenated). */
export interface MtUncertaintyScores {
  /** Candidates per group. */
  counts: number[];
  /** Ĥ(x): H/(ln C + 1e-5) in `code` mode, H/ln C in `paper` mode; 0 for regression. */
  entropy: Float64Array;
  /** Per group: mean of Ĥ (`code`) or of the raw entropy H (`paper`). */
  taskMean: Float64Array;
  /** The largest `taskMean`. */
  hMax: number;
  /** The ranking score of each candidate. */
  scores: Float64Array;
  /** STS-B candidates that took an MRPC score. */
  borrowed: number;
}

/** Shannon entropy (nats) of softmax(`logits[offset .. offset+C)`), computed stably. */
function entropyAt(logits: ArrayLike<number>, offset: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, logits[offset + c]);
  // H = log Σ e^(z-m) - Σ p (z-m), with p = e^(z-m) / Σ e^(z-m).
  let sum = 0, dot = 0;
  for (let c = 0; c < C; c++) {
    const d = logits[offset + c] - m;
    const e = Math.exp(d);
    sum += e;
    dot += e * d;
  }
  return Math.max(0, Math.log(sum) - dot / sum);
}

/**
 * Shannon entropy in nats of softmax(`logits`), computed stably (no overflow at ±1e4).
 *
 * @example A uniform 3-way distribution has entropy ln 3
 * ```ts
 * import { softmaxEntropy } from "./mt_uncertainty.ts";
 * if (Math.abs(softmaxEntropy([2, 2, 2]) - Math.log(3)) > 1e-15) throw new Error();
 * ```
 */
export function softmaxEntropy(logits: ArrayLike<number>): number {
  return entropyAt(logits, 0, logits.length);
}

/**
 * Scores candidates as the released code (or the paper) does; see the module doc.
 *
 * @example Two binary tasks, the second more uncertain as a whole
 * ```ts
 * import { mtUncertaintyScores } from "./mt_uncertainty.ts";
 * const r = mtUncertaintyScores([
 *   { task: "rte", numLabels: 2, logits: [0, 0, 4, -4] },
 *   { task: "qnli", numLabels: 2, logits: [0, 0, 0, 0] },
 * ]);
 * if (r.hMax !== r.taskMean[1] || !(r.scores[0] < r.scores[2])) throw new Error();
 * ```
 * @throws {TypeError} When a group's logits are not a whole number of rows of C_t.
 * @throws {RangeError} When C_t is not a positive integer.
 */
export function mtUncertaintyScores(
  groups: readonly CandidateGroup[],
  options: MtUncertaintyScoreOptions = {},
): MtUncertaintyScores {
  const mode = options.scoreMode ?? "code";
  const borrow = options.borrowStsbFromMrpc ?? mode === "code";
  const counts = groups.map(({ task, numLabels: C, logits }) => {
    if (!Number.isInteger(C) || C < 1) {
      throw new RangeError(`Cannot score candidates of "${task}": it has ${C} labels`);
    }
    if (logits.length % C !== 0) {
      throw new TypeError(
        `Cannot score candidates of "${task}": ${logits.length} logits is not a multiple of its ${C} labels`,
      );
    }
    return logits.length / C;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const entropy = new Float64Array(total);
  const raw = new Float64Array(total);
  const taskMean = new Float64Array(groups.length);
  let at = 0;
  groups.forEach(({ numLabels: C, logits }, g) => {
    const norm = mode === "code" ? Math.log(C) + 1e-5 : Math.log(C);
    let sum = 0;
    for (let i = 0; i < counts[g]; i++) {
      const h = C === 1 ? 0 : entropyAt(logits, i * C, C);
      raw[at + i] = h;
      entropy[at + i] = C === 1 ? 0 : h / norm;
      sum += mode === "code" ? entropy[at + i] : h;
    }
    taskMean[g] = counts[g] > 0 ? sum / counts[g] : 0;
    at += counts[g];
  });
  let hMax = 0;
  taskMean.forEach((m, g) => {
    if (counts[g] > 0 && m > hMax) hMax = m;
  });
  const scores = new Float64Array(total);
  at = 0;
  groups.forEach((_, g) => {
    for (let i = 0; i < counts[g]; i++) {
      if (hMax === 0) scores[at + i] = 0;
      else if (mode === "code") scores[at + i] = entropy[at + i] * (taskMean[g] / hMax);
      else {scores[at + i] = groups[g].numLabels === 1
          ? 0
          : raw[at + i] / (hMax * Math.log(groups[g].numLabels));}
    }
    at += counts[g];
  });
  let borrowed = 0;
  // By GLUE twin, so that stand-in tasks (the demo's rating/comparison) follow the rule too.
  const stsb = groups.findIndex((g) => glueTwinOf(g.task) === "sts-b");
  const mrpc = groups.findIndex((g) => glueTwinOf(g.task) === "mrpc");
  if (borrow && stsb >= 0 && mrpc >= 0) {
    const start = (g: number) => counts.slice(0, g).reduce((a, b) => a + b, 0);
    borrowed = Math.min(counts[stsb], counts[mrpc]);
    const s0 = start(stsb), m0 = start(mrpc);
    for (let j = 0; j < borrowed; j++) scores[s0 + j] = scores[m0 + j];
  }
  return { counts, entropy, taskMean, hMax, scores, borrowed };
}

/**
 * Indices of the `k` largest scores, largest first; equal scores keep their order (the
 * earlier candidate wins), so the selection is deterministic.
 *
 * @throws {RangeError} When `k` is outside [0, scores.length].
 */
export function selectTopK(scores: ArrayLike<number>, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > scores.length) {
    throw new RangeError(`Cannot select the top ${k} of ${scores.length} candidates`);
  }
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(idx.slice(0, k));
}

/**
 * Runs the model on the candidate pool without gradients and returns, for each entry of
 * `candidates.tasks` (in that order), that task's logits `[n_t, C_t]` row-major. It must not
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
  /** Score of each candidate row of `candidates`. */
  rowScores: Float64Array;
  /** Candidate rows kept, best first. */
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
    const logits = await this.#scorer(candidates);
    if (logits.length !== candidates.tasks.length) {
      throw new TypeError(
        `Cannot score the MT-Uncertainty candidates: the scorer returned ${logits.length} logit arrays for ${candidates.tasks.length} tasks`,
      );
    }
    const groups = candidates.tasks.map((slice, i) => {
      const C = this.sets[this.slotOf(slice.taskId)].numLabels;
      if (logits[i].length !== slice.rows.length * C) {
        throw new TypeError(
          `Cannot score the MT-Uncertainty candidates of "${slice.task}": expected [${slice.rows.length}, ${C}] logits, got ${
            logits[i].length
          } values`,
        );
      }
      this.#candidates[this.slotOf(slice.taskId)] += slice.rows.length;
      return { task: slice.task, numLabels: C, logits: logits[i] };
    });
    const result = mtUncertaintyScores(groups, this.scoreOptions);
    const rowScores = new Float64Array(candidates.size);
    let at = 0;
    for (const slice of candidates.tasks) {
      for (let j = 0; j < slice.rows.length; j++) rowScores[slice.rows[j]] = result.scores[at + j];
      at += slice.rows.length;
    }
    const selected = selectTopK(rowScores, Math.min(this.batchSize, candidates.size));
    this.#last = { candidates, result, rowScores, selected };
    return Array.from(selected).sort((a, b) => a - b).map((r) => pool[r]);
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
