/**
 * From start and end logits to answer texts, as Hugging Face's SQuAD post-processing does it:
 * in each window take the `nBestSize` highest start and end logits; keep pairs whose start and
 * end are context tokens, whose start has its most context in this window, with end ≥ start
 * and at most `maxAnswerLength` tokens; the best pair over all windows of a question (highest
 * start + end logit, the first on a tie) is the answer, cut from the context by the tokens'
 * character offsets. A question without any valid pair answers "".
 *
 * @module
 */

import type { FeatureSet } from "./features.ts";

/** Options of {@linkcode bestAnswers}. */
export interface SpanDecodeOptions {
  /** Start and end candidates per window (HF's `--n_best_size`, default 20). */
  nBestSize?: number;
  /** Longest answer in tokens (HF's `--max_answer_length`, default 30). */
  maxAnswerLength?: number;
}

/** The `n` highest positions of `values[a, b)`, best first, the lower index first on a tie. */
function topPositions(values: ArrayLike<number>, a: number, b: number, n: number): number[] {
  const idx = Array.from({ length: b - a }, (_, i) => i);
  idx.sort((x, y) => values[a + y] - values[a + x] || x - y);
  return idx.slice(0, n);
}

/** One question's best answer: its text and score, and where it is. */
export interface SpanAnswer {
  /** The answer text ("" when no window gave a valid span). */
  text: string;
  /** Start logit + end logit of the chosen span (-Infinity without one). */
  score: number;
  /** The feature (window) the span is in, or -1. */
  feature: number;
  /** Start token in that feature's sequence, or -1. */
  start: number;
  /** End token (inclusive) in that feature's sequence, or -1. */
  end: number;
}

/**
 * The best answer of every question of a span-extraction set.
 *
 * @param set The features (`buildSpanFeatures`).
 * @param startLogits `[T]` start logit of every token of `set`, aligned with `set.inputIds`.
 * @param endLogits `[T]` end logits, likewise.
 * @param options n-best size and longest answer.
 * @returns One answer per question, in the order of `set.meta.ids`.
 * @throws {TypeError} When `set` lacks span features or the logits are not one per token.
 * @example
 * ```ts ignore
 * const answers = bestAnswers(devSet, startLogits, endLogits, { maxAnswerLength: 30 });
 * const m = squadMetrics(answers.map((a) => a.text), devSet.meta!.golds!);
 * ```
 */
export function bestAnswers(
  set: FeatureSet,
  startLogits: ArrayLike<number>,
  endLogits: ArrayLike<number>,
  options: SpanDecodeOptions = {},
): SpanAnswer[] {
  const x = set.extras, meta = set.meta;
  const T = set.inputIds.length;
  if (
    !x?.exampleIndex || !x.charStarts || !x.charEnds || !x.maxContext || !meta?.ids ||
    !meta.contexts || !meta.contextOf || startLogits.length !== T || endLogits.length !== T
  ) {
    throw new TypeError(
      `Cannot read answers of "${set.task}": it needs span-extraction features and one start and end logit per token (${T}), got ${startLogits.length} and ${endLogits.length}`,
    );
  }
  const nBest = options.nBestSize ?? 20, maxLength = options.maxAnswerLength ?? 30;
  const out: SpanAnswer[] = meta.ids.map(() => ({
    text: "",
    score: -Infinity,
    feature: -1,
    start: -1,
    end: -1,
  }));
  for (let f = 0; f < set.size; f++) {
    const a = set.offsets[f], b = set.offsets[f + 1];
    const best = out[x.exampleIndex[f]];
    const ends = topPositions(endLogits, a, b, nBest);
    for (const s of topPositions(startLogits, a, b, nBest)) {
      if (x.charStarts[a + s] < 0 || x.maxContext[a + s] !== 1) continue;
      for (const e of ends) {
        if (x.charStarts[a + e] < 0 || e < s || e - s + 1 > maxLength) continue;
        const score = startLogits[a + s] + endLogits[a + e];
        if (score > best.score) Object.assign(best, { score, feature: f, start: s, end: e });
      }
    }
  }
  for (const [q, ans] of out.entries()) {
    if (ans.feature < 0) continue;
    const a = set.offsets[ans.feature];
    const context = meta.contexts[meta.contextOf[q]];
    ans.text = context.slice(x.charStarts[a + ans.start], x.charEnds[a + ans.end]);
  }
  return out;
}
