/**
 * The first examples of a feature set, as HF's examples cap a dataset with
 * `--max_train_samples` / `--max_eval_samples`: every array and every piece of metadata cut to
 * them, so that batching, decoding, scoring and submission files work on the smaller set exactly
 * as on the whole. For span extraction the cap counts questions (with all their windows), for
 * multiple choice examples (with all their choices).
 *
 * @module
 */

import { type ExampleMeta, EXTRA_ARRAYS, type FeatureExtras } from "./feature_extras.ts";
import { FeatureSet } from "./features.ts";
import { headKind } from "./tasks.ts";

/** Meta arrays indexed by question (span extraction) or example (the others). */
const PER_EXAMPLE_META = ["ids", "multirc", "words", "tags", "contextOf", "golds"] as const;

/**
 * The first `n` examples of `set` (questions, for span extraction); `set` itself when it has no
 * more than `n`.
 *
 * @param set A feature set of any head kind.
 * @param n How many examples (or questions) to keep, at least 1.
 * @returns A feature set over copies of the kept part of the arrays.
 * @throws {RangeError} When `n` is not a positive integer.
 * @example
 * ```ts ignore
 * const dev = firstExamples(fullDev, 200); // HF's --max_eval_samples 200
 * ```
 */
export function firstExamples(set: FeatureSet, n: number): FeatureSet {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot keep ${n} examples of "${set.task}": expected an integer >= 1`);
  }
  const span = headKind(set.task) === "span-extraction";
  const questions = span ? (set.meta?.ids?.length ?? 0) : set.size;
  if (questions <= n) return set;
  let features = n;
  if (span) {
    const owner = set.extras!.exampleIndex!;
    features = 0;
    while (features < owner.length && owner[features] < n) features++;
  }
  const sequences = features * set.choices;
  const tokens = set.offsets[sequences];
  const extras: FeatureExtras | null = set.extras ? { ...set.extras } : null;
  if (extras) {
    for (const [name, { per }] of Object.entries(EXTRA_ARRAYS)) {
      const array = extras[name as keyof typeof EXTRA_ARRAYS];
      if (array === undefined) continue;
      const end = per === "token"
        ? tokens
        : per === "span"
        ? features * (extras.spanCount ?? 0) * 2
        : features;
      (extras as Record<string, unknown>)[name] = array.slice(0, end);
    }
  }
  const meta: ExampleMeta | null = set.meta ? { ...set.meta } : null;
  if (meta) {
    for (const name of PER_EXAMPLE_META) {
      // deno-lint-ignore no-explicit-any
      if (meta[name] !== undefined) (meta as any)[name] = meta[name]!.slice(0, n);
    }
  }
  return new FeatureSet(set.key, {
    offsets: set.offsets.slice(0, sequences + 1),
    inputIds: set.inputIds.slice(0, tokens),
    tokenTypeIds: set.tokenTypeIds.slice(0, tokens),
    labels: set.labels ? set.labels.slice(0, features) : null,
    skipped: set.skipped,
    padId: set.padId,
    extras,
    meta,
  });
}
