/**
 * The metrics GLUE reports, with the keys of transformers 2.x `glue_compute_metrics`
 * (docs/model.md §14.6): accuracy, binary F1 (positive class 1), Matthews correlation, Pearson
 * and Spearman correlation (ties get their average rank), and the combined `acc_and_f1` and
 * `corr`. All sums run in float64.
 *
 * Degenerate inputs follow scikit-learn/scipy: F1 is 0 when there are no true or predicted
 * positives, Matthews correlation is 0 when either side is constant, and a correlation with a
 * constant input is NaN (scipy returns NaN with a warning).
 *
 * @module
 */

import { assertGlueTask } from "./glue_tasks.ts";

/** Metric values by their HF key (`acc`, `f1`, `acc_and_f1`, `mcc`, `pearson`, `spearmanr`, `corr`). */
export type GlueMetrics = Record<string, number>;

function checkPair(what: string, preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (preds.length !== labels.length) {
    throw new TypeError(
      `Cannot compute ${what}: ${preds.length} predictions but ${labels.length} labels`,
    );
  }
  if (preds.length === 0) throw new RangeError(`Cannot compute ${what}: there are no predictions`);
  return preds.length;
}

/**
 * Fraction of predictions equal to their label.
 *
 * @example
 * ```ts
 * import { accuracy } from "./metrics.ts";
 * if (accuracy([1, 0, 1, 1], [1, 1, 1, 0]) !== 0.5) throw new Error();
 * ```
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function accuracy(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkPair("accuracy", preds, labels);
  let hit = 0;
  for (let i = 0; i < n; i++) if (preds[i] === labels[i]) hit++;
  return hit / n;
}

/**
 * Binary F1 with class 1 as the positive class: 2·TP / (2·TP + FP + FN), or 0 when there is
 * no positive at all (scikit-learn's `zero_division` result).
 *
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function f1Score(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkPair("F1", preds, labels);
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < n; i++) {
    const p = preds[i] === 1, l = labels[i] === 1;
    if (p && l) tp++;
    else if (p) fp++;
    else if (l) fn++;
  }
  const den = 2 * tp + fp + fn;
  return den === 0 ? 0 : (2 * tp) / den;
}

/**
 * Matthews correlation coefficient for any number of classes (Gorodkin's R_K, which is the
 * usual phi coefficient for two classes), computed from the confusion matrix's row sums,
 * column sums and trace. Returns 0, not NaN, when either side is constant.
 *
 * @example Constant predictions give 0
 * ```ts
 * import { matthewsCorrelation } from "./metrics.ts";
 * if (matthewsCorrelation([1, 1, 1], [0, 1, 0]) !== 0) throw new Error();
 * ```
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function matthewsCorrelation(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkPair("Matthews correlation", preds, labels);
  const predCount = new Map<number, number>();
  const trueCount = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    predCount.set(preds[i], (predCount.get(preds[i]) ?? 0) + 1);
    trueCount.set(labels[i], (trueCount.get(labels[i]) ?? 0) + 1);
    if (preds[i] === labels[i]) correct++;
  }
  // Σ_k t_k·p_k, Σ p_k², Σ t_k² over the classes.
  let tp = 0, pp = 0, tt = 0;
  for (const [k, t] of trueCount) {
    tt += t * t;
    tp += t * (predCount.get(k) ?? 0);
  }
  for (const p of predCount.values()) pp += p * p;
  const covTP = correct * n - tp;
  const covPP = n * n - pp;
  const covTT = n * n - tt;
  if (covPP === 0 || covTT === 0) return 0;
  return covTP / Math.sqrt(covTT * covPP);
}

/**
 * Pearson correlation coefficient; NaN when either input is constant.
 *
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = checkPair("Pearson correlation", x, y);
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * 1-based ranks with ties given the mean of the ranks they span (scipy's `rankdata`
 * "average" method).
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman rank correlation: Pearson on average ranks, so ties are handled as scipy does.
 *
 * @example Ties share a rank
 * ```ts
 * import { spearman } from "./metrics.ts";
 * if (Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) > 1e-12) throw new Error();
 * ```
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair("Spearman correlation", x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/** `{ acc, f1, acc_and_f1 }` with `acc_and_f1` their mean (MRPC, QQP). */
export function accAndF1(preds: ArrayLike<number>, labels: ArrayLike<number>): GlueMetrics {
  const acc = accuracy(preds, labels);
  const f1 = f1Score(preds, labels);
  return { acc, f1, acc_and_f1: (acc + f1) / 2 };
}

/** `{ pearson, spearmanr, corr }` with `corr` their mean (STS-B). */
export function pearsonAndSpearman(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
): GlueMetrics {
  const p = pearson(preds, labels);
  const s = spearman(preds, labels);
  return { pearson: p, spearmanr: s, corr: (p + s) / 2 };
}

/**
 * The metrics HF 2.x reports for a GLUE task: `mcc` for CoLA; `acc`, `f1`, `acc_and_f1` for
 * MRPC and QQP; `pearson`, `spearmanr`, `corr` for STS-B; `acc` for the others.
 *
 * @param task A GLUE task name (including `mnli-mm`).
 * @param preds Class indices (argmax of the logits), or raw scores for STS-B.
 * @param labels Gold class indices, or gold scores for STS-B.
 * @returns The metric values by key.
 * @example
 * ```ts
 * import { glueComputeMetrics } from "./metrics.ts";
 * const m = glueComputeMetrics("mrpc", [1, 0, 1, 1], [1, 0, 0, 1]);
 * if (m.acc !== 0.75 || m.f1 !== 0.8) throw new Error();
 * ```
 * @throws {RangeError} For an unknown task or empty inputs. @throws {TypeError} For a length mismatch.
 */
export function glueComputeMetrics(
  task: string,
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
): GlueMetrics {
  switch (assertGlueTask(task)) {
    case "cola":
      return { mcc: matthewsCorrelation(preds, labels) };
    case "mrpc":
    case "qqp":
      return accAndF1(preds, labels);
    case "sts-b":
      return pearsonAndSpearman(preds, labels);
    default:
      return { acc: accuracy(preds, labels) };
  }
}
