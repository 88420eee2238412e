/**
 * The SuperGLUE metrics that GLUE does not have:
 *
 * - CB: accuracy and macro-averaged F1 (each class's F1, averaged with equal weight over the
 *   classes that occur in the gold labels or the predictions, as scikit-learn's
 *   `average="macro"` does), with `acc_and_f1` their mean;
 * - MultiRC: `f1a`, binary F1 over all answer options (positive class 1), and `em`, the fraction
 *   of questions whose options are all labelled right;
 * - AX-g: accuracy and gender parity, the fraction of sentence pairs (the same sentence with a
 *   male and a female pronoun) that get the same prediction;
 * - AX-b: Matthews correlation (`matthewsCorrelation` in `metrics.ts`).
 *
 * Groups (MultiRC's questions, AX-g's pairs) are given as a group number per example.
 *
 * @module
 */

import { accuracy, f1Score } from "./metrics.ts";

function checkGroups(
  what: string,
  n: number,
  groups: ArrayLike<number> | undefined,
): ArrayLike<number> {
  if (groups === undefined || groups.length !== n) {
    throw new TypeError(
      `Cannot compute ${what}: it needs a group number per example (${n}), got ${
        groups?.length ?? "none"
      }`,
    );
  }
  return groups;
}

/**
 * Macro-averaged F1 over the classes present in `preds` or `labels`.
 *
 * @example One class never predicted
 * ```ts
 * import { macroF1 } from "./superglue_metrics.ts";
 * // class 0: F1 1/2, class 1: F1 2/3, class 2 (never predicted): F1 0
 * if (Math.abs(macroF1([0, 0, 1, 1], [0, 2, 1, 0]) - 7 / 18) > 1e-15) throw new Error();
 * ```
 * @throws {TypeError} When the lengths differ. @throws {RangeError} When both are empty.
 */
export function macroF1(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  accuracy(preds, labels); // checks lengths and emptiness
  const classes = new Set<number>([...Array.from(preds), ...Array.from(labels)]);
  let sum = 0;
  for (const c of classes) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i] === c, l = labels[i] === c;
      if (p && l) tp++;
      else if (p) fp++;
      else if (l) fn++;
    }
    sum += (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / classes.size;
}

/** CB: `{ acc, f1, acc_and_f1 }` with macro-averaged F1. */
export function cbMetrics(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
): Record<string, number> {
  const acc = accuracy(preds, labels), f1 = macroF1(preds, labels);
  return { acc, f1, acc_and_f1: (acc + f1) / 2 };
}

/**
 * MultiRC: `{ em, f1a }`.
 *
 * @param preds Predicted label (0/1) of each answer option.
 * @param labels Gold label of each option.
 * @param groups Question number of each option.
 * @example
 * ```ts
 * import { multircMetrics } from "./superglue_metrics.ts";
 * const m = multircMetrics([1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 1]);
 * if (m.em !== 0.5 || m.f1a !== 0.8) throw new Error(JSON.stringify(m));
 * ```
 * @throws {TypeError} When lengths differ or groups are missing. @throws {RangeError} When empty.
 */
export function multircMetrics(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups?: ArrayLike<number>,
): Record<string, number> {
  const f1a = f1Score(preds, labels);
  const g = checkGroups("MultiRC exact match", preds.length, groups);
  const allRight = new Map<number, boolean>();
  for (let i = 0; i < preds.length; i++) {
    allRight.set(g[i], (allRight.get(g[i]) ?? true) && preds[i] === labels[i]);
  }
  let right = 0;
  for (const ok of allRight.values()) if (ok) right++;
  return { em: right / allRight.size, f1a };
}

/**
 * Gender parity: the fraction of groups (AX-g pairs) whose members all get the same prediction.
 *
 * @throws {TypeError} When the groups do not match the predictions. @throws {RangeError} When empty.
 */
export function genderParity(preds: ArrayLike<number>, groups?: ArrayLike<number>): number {
  const g = checkGroups("gender parity", preds.length, groups);
  if (preds.length === 0) {
    throw new RangeError("Cannot compute gender parity: there are no predictions");
  }
  const first = new Map<number, number>();
  const same = new Map<number, boolean>();
  for (let i = 0; i < preds.length; i++) {
    const p = first.get(g[i]);
    if (p === undefined) {
      first.set(g[i], preds[i]);
      same.set(g[i], true);
    } else if (p !== preds[i]) same.set(g[i], false);
  }
  let equal = 0;
  for (const ok of same.values()) if (ok) equal++;
  return equal / same.size;
}

/** AX-g: `{ acc, gender_parity }`. */
export function axgMetrics(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups?: ArrayLike<number>,
): Record<string, number> {
  return { acc: accuracy(preds, labels), gender_parity: genderParity(preds, groups) };
}
