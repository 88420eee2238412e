/**
 * The MT-Uncertainty score of candidates of every head kind (docs/model.md §12.6, §12.10). Each
 * candidate example x gets a raw entropy H(x) (natural log) and the entropy N(x) of a uniform
 * distribution over the same outcomes, so that Ĥ(x) = H(x) / N(x) lies in [0, 1] whatever the head:
 *
 * | kind | logits | H(x) | N(x) |
 * | --- | --- | --- | --- |
 * | classification | `[n, C]` | entropy of softmax over the C classes (regression, C = 1: 0) | ln C |
 * | token classification | `[n, T, C]` | mean over tokens 1 … L−2 (no `[CLS]`, no final `[SEP]`, no padding) of each token's tag entropy | ln C |
 * | span extraction | `[n, T, 2]` | mean of the start and the end entropies, each a softmax over the L real tokens | ln L |
 * | multiple choice | `[n, choices]` | entropy of softmax over the choices | ln choices |
 *
 * L is the candidate's real length (its attention mask). A candidate with one outcome (regression,
 * a one-token span window, a tagged sequence of no word) has H = N = 0 and Ĥ = 0.
 *
 * - `code` (the released score): Ĥ(x) = H(x) / (N(x) + 1e-5); H̄_t = mean Ĥ over task t's
 *   candidates; Ĥ_max = max_t H̄_t; score(x) = Ĥ(x) · H̄_t / Ĥ_max; STS-B takes MRPC's scores.
 * - `paper`: H̄_t = mean raw H; Ĥ_max = max_t H̄_t; score(x) = H(x) / (Ĥ_max · N(x)).
 *
 * When Ĥ_max = 0 every score is 0 (the released code would rank NaNs).
 *
 * @module
 */

import type { Batch, TaskSlice } from "./loader.ts";
import { glueTwinOf, type HeadKind } from "./tasks.ts";

/** Which MT-Uncertainty score to rank by (`--mt_uncertainty_score`). */
export type MtUncertaintyScoreMode = "code" | "paper";

/** One task's candidates for {@linkcode mtUncertaintyScores}. */
export interface CandidateGroup {
  /** Task name (`sts-b` and `mrpc` matter for the borrowing). */
  task: string;
  /** C_t: classes (1 = regression), tags, choices; 2 (start, end) for span extraction. */
  numLabels: number;
  /**
   * Row-major logits, one candidate after the other: `[n, C]` for classification and multiple
   * choice, `[n, seqLen, C]` for token classification and span extraction.
   */
  logits: ArrayLike<number>;
  /** The head kind (default `classification`). */
  kind?: HeadKind;
  /** Token classification and span extraction: T, positions per candidate in `logits`. */
  seqLen?: number;
  /** Token classification and span extraction: `[n]` real tokens of each candidate (≤ T). */
  lengths?: ArrayLike<number>;
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
  /** Candidates (examples) per group. */
  counts: number[];
  /** Ĥ(x): H/(N + 1e-5) in `code` mode, H/N in `paper` mode; 0 when N = 0. */
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

/** Entropy (nats) of softmax over `count` logits at `offset`, `stride` apart, computed stably. */
function entropyAt(logits: ArrayLike<number>, offset: number, count: number, stride = 1): number {
  let m = -Infinity;
  for (let c = 0; c < count; c++) m = Math.max(m, logits[offset + c * stride]);
  // H = log Σ e^(z-m) - Σ p (z-m), with p = e^(z-m) / Σ e^(z-m).
  let sum = 0, dot = 0;
  for (let c = 0; c < count; c++) {
    const d = logits[offset + c * stride] - m;
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
 * import { softmaxEntropy } from "./mt_uncertainty_score.ts";
 * if (Math.abs(softmaxEntropy([2, 2, 2]) - Math.log(3)) > 1e-15) throw new Error();
 * ```
 */
export function softmaxEntropy(logits: ArrayLike<number>): number {
  return entropyAt(logits, 0, logits.length);
}

/** Raw entropy H and uniform entropy N of each candidate of one group (see the module doc). */
interface GroupEntropies {
  raw: Float64Array;
  norm: Float64Array;
}

function refuse(task: string, why: string): never {
  throw new TypeError(`Cannot score the MT-Uncertainty candidates of "${task}": ${why}`);
}

/** Candidates of a group, after checking its shape. */
function countOf(group: CandidateGroup): number {
  const { task, numLabels: C, logits, kind = "classification" } = group;
  if (!Number.isInteger(C) || C < 1) {
    throw new RangeError(`Cannot score candidates of "${task}": it has ${C} labels`);
  }
  if (kind !== "token-classification" && kind !== "span-extraction") {
    if (logits.length % C !== 0) {
      refuse(task, `${logits.length} logits is not a multiple of its ${C} labels`);
    }
    return logits.length / C;
  }
  const { seqLen: T, lengths } = group;
  if (kind === "span-extraction" && C !== 2) refuse(task, `a span head has 2 outputs, not ${C}`);
  if (!(Number.isInteger(T) && T! >= 1) || lengths === undefined) {
    refuse(task, `a ${kind} group needs seqLen and lengths`);
  }
  const n = lengths.length;
  if (logits.length !== n * T! * C) {
    refuse(task, `expected [${n}, ${T}, ${C}] logits, got ${logits.length} values`);
  }
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(lengths[i]) && lengths[i] >= 1 && lengths[i] <= T!)) {
      refuse(task, `candidate ${i} has ${lengths[i]} real tokens, outside [1, ${T}]`);
    }
  }
  return n;
}

function groupEntropies(group: CandidateGroup, n: number): GroupEntropies {
  const { numLabels: C, logits, kind = "classification" } = group;
  const raw = new Float64Array(n), norm = new Float64Array(n);
  const T = group.seqLen ?? 0;
  for (let i = 0; i < n; i++) {
    if (kind === "token-classification") {
      // Positions 1 … L-2: the head is never trained or read at [CLS] and the last [SEP].
      const L = group.lengths![i], first = 1, last = L - 2;
      let sum = 0;
      for (let j = first; j <= last; j++) sum += entropyAt(logits, (i * T + j) * C, C);
      const tokens = last - first + 1;
      raw[i] = tokens > 0 && C > 1 ? sum / tokens : 0;
      norm[i] = tokens > 0 ? Math.log(C) : 0;
    } else if (kind === "span-extraction") {
      const L = group.lengths![i], at = i * T * 2;
      raw[i] = L > 1 ? (entropyAt(logits, at, L, 2) + entropyAt(logits, at + 1, L, 2)) / 2 : 0;
      norm[i] = Math.log(L);
    } else {
      raw[i] = C > 1 ? entropyAt(logits, i * C, C) : 0;
      norm[i] = Math.log(C);
    }
  }
  return { raw, norm };
}

/**
 * Scores candidates as the released code (or the paper) does, for any head kind; see the
 * module doc.
 *
 * @example Two binary tasks, the second more uncertain as a whole
 * ```ts
 * import { mtUncertaintyScores } from "./mt_uncertainty_score.ts";
 * const r = mtUncertaintyScores([
 *   { task: "rte", numLabels: 2, logits: [0, 0, 4, -4] },
 *   { task: "qnli", numLabels: 2, logits: [0, 0, 0, 0] },
 * ]);
 * if (r.hMax !== r.taskMean[1] || !(r.scores[0] < r.scores[2])) throw new Error();
 * ```
 * @throws {TypeError} When a group's logits do not have its kind's shape, or a token or span
 *   group lacks `seqLen` and `lengths`.
 * @throws {RangeError} When C_t is not a positive integer.
 */
export function mtUncertaintyScores(
  groups: readonly CandidateGroup[],
  options: MtUncertaintyScoreOptions = {},
): MtUncertaintyScores {
  const mode = options.scoreMode ?? "code";
  const borrow = options.borrowStsbFromMrpc ?? mode === "code";
  const counts = groups.map(countOf);
  const total = counts.reduce((a, b) => a + b, 0);
  const entropy = new Float64Array(total);
  const raw = new Float64Array(total);
  const norm = new Float64Array(total);
  const taskMean = new Float64Array(groups.length);
  let at = 0;
  groups.forEach((group, g) => {
    const e = groupEntropies(group, counts[g]);
    raw.set(e.raw, at);
    norm.set(e.norm, at);
    let sum = 0;
    for (let i = at; i < at + counts[g]; i++) {
      const N = mode === "code" ? norm[i] + 1e-5 : norm[i];
      entropy[i] = norm[i] > 0 ? raw[i] / N : 0;
      sum += mode === "code" ? entropy[i] : raw[i];
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
    for (let i = at; i < at + counts[g]; i++) {
      if (hMax === 0 || norm[i] === 0) scores[i] = 0;
      else if (mode === "code") scores[i] = entropy[i] * (taskMean[g] / hMax);
      else scores[i] = raw[i] / (hMax * norm[i]);
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

/** The candidate groups of a collated pool, and where each candidate sits in it. */
export interface PoolGroups {
  /** One group per task slice of the pool, in slice order. */
  groups: CandidateGroup[];
  /** Per group: each candidate's rows in the pool (`choices` consecutive rows for multiple choice). */
  rows: Int32Array[][];
}

/**
 * The groups {@linkcode mtUncertaintyScores} needs for a collated candidate pool and the
 * scorer's logits (one array per task slice, in the heads' shapes; see the module doc): the kind
 * from the task's head, T from the pool, each candidate's real length from its attention mask, and
 * one candidate per example (a multiple-choice example's rows together).
 *
 * @param pool The collated candidates.
 * @param logits The scorer's logits, one array per entry of `pool.tasks`.
 * @param headOf Head kind and outputs of the task of a slice.
 * @throws {TypeError} When the scorer returned the wrong number of arrays or an array of the
 *   wrong size.
 */
export function poolGroups(
  pool: Batch,
  logits: ReadonlyArray<ArrayLike<number>>,
  headOf: (slice: TaskSlice) => { kind: HeadKind; numLabels: number },
): PoolGroups {
  if (logits.length !== pool.tasks.length) {
    throw new TypeError(
      `Cannot score the MT-Uncertainty candidates: the scorer returned ${logits.length} logit arrays for ${pool.tasks.length} tasks`,
    );
  }
  const T = pool.seqLen;
  const rows: Int32Array[][] = [];
  const groups = pool.tasks.map((slice, i): CandidateGroup => {
    const head = headOf(slice), kind = head.kind;
    const per = slice.choices ?? 1, n = slice.rows.length / per;
    // Multiple choice: one logit per choice row, whatever the head's label count says.
    const C = kind === "multiple-choice" ? per : head.numLabels;
    rows.push(Array.from({ length: n }, (_, j) => slice.rows.subarray(j * per, j * per + per)));
    const group = { task: slice.task, numLabels: C, logits: logits[i], kind };
    if (kind !== "token-classification" && kind !== "span-extraction") {
      if (logits[i].length !== n * C) {
        refuse(slice.task, `expected [${n}, ${C}] logits, got ${logits[i].length} values`);
      }
      return group;
    }
    const lengths = Int32Array.from(slice.rows, (r) => {
      let L = 0;
      while (L < T && pool.attentionMask[r * T + L] === 1) L++;
      return L;
    });
    return { ...group, seqLen: T, lengths };
  });
  return { groups, rows };
}
