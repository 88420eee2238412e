/**
 * Extractive question answering metrics as the official SQuAD v1.1 evaluation defines them (and
 * MRQA reuses): both answers are normalised (lower case, ASCII punctuation removed, the articles
 * "a", "an", "the" removed as whole words, whitespace collapsed); exact match is equality of the
 * normalised strings; F1 is the harmonic mean of precision and recall over the multiset of
 * normalised tokens; each question takes its best score over its gold answers; the totals are
 * percentages over all questions, a question without a prediction scoring 0.
 *
 * String details follow the Python definitions: lower-casing is Unicode's, "whole word" uses
 * Python's Unicode word characters (letters, digits, underscore), and tokens are separated by
 * Python's whitespace, so answers with accents or non-Latin scripts score as the official script
 * scores them.
 *
 * @module
 */

// string.punctuation: the 32 ASCII punctuation characters.
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
// re.sub(r"\b(a|an|the)\b", " ", text) with Python's Unicode \w on each side.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
// str.split(): Python's whitespace (JavaScript's \s lacks U+001C..U+001F and U+0085 and has U+FEFF).
// deno-lint-ignore no-control-regex
const PY_SPACE = /[\t-\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Python's `str.split()`: split on runs of whitespace, no empty strings. */
function pySplit(s: string): string[] {
  return s.split(PY_SPACE).filter((t) => t !== "");
}

/**
 * The official SQuAD answer normalisation: lower case, drop punctuation, drop articles,
 * collapse whitespace.
 *
 * @example
 * ```ts
 * import { normalizeAnswer } from "./squad_metrics.ts";
 * if (normalizeAnswer("The  Denver Broncos!") !== "denver broncos") throw new Error();
 * ```
 */
export function normalizeAnswer(s: string): string {
  let out = "";
  for (const ch of s.toLowerCase()) if (!PUNCTUATION.has(ch)) out += ch;
  return pySplit(out.replace(ARTICLES, " ")).join(" ");
}

/** 1 when the normalised strings are equal, else 0. */
export function answerExactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/**
 * Token-overlap F1 of two answers after normalisation; 0 when they share no token (an empty
 * prediction included).
 *
 * @example
 * ```ts
 * import { answerF1 } from "./squad_metrics.ts";
 * // one shared token: precision 1/3, recall 1
 * if (answerF1("Denver Broncos team", "the Broncos") !== 0.5) throw new Error();
 * ```
 */
export function answerF1(prediction: string, gold: string): number {
  const p = pySplit(normalizeAnswer(prediction));
  const g = pySplit(normalizeAnswer(gold));
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length, recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The best of `score(prediction, gold)` over the gold answers (0 without any). */
function bestOver(
  score: (p: string, g: string) => number,
  prediction: string,
  golds: readonly string[],
): number {
  let best = 0;
  for (const g of golds) best = Math.max(best, score(prediction, g));
  return best;
}

/**
 * `{ exact_match, f1 }` in percent, as the official SQuAD v1.1 script prints them: per question
 * the best score over its gold answers, averaged over all questions.
 *
 * @param predictions The predicted answer of each question, in the order of `golds`; null or a
 * missing entry is an unanswered question (scores 0).
 * @param golds The gold answers of each question (several annotators' answers).
 * @returns The two percentages.
 * @throws {RangeError} When there are no questions.
 * @example Several gold answers, articles and punctuation
 * ```ts
 * import { squadMetrics } from "./squad_metrics.ts";
 * const m = squadMetrics(["the Broncos.", "1985"], [["Denver Broncos", "Broncos"], ["in 1984"]]);
 * if (m.exact_match !== 50 || m.f1 !== 50) throw new Error(JSON.stringify(m));
 * ```
 */
export function squadMetrics(
  predictions: ReadonlyArray<string | null | undefined>,
  golds: readonly (readonly string[])[],
): { exact_match: number; f1: number } {
  if (golds.length === 0) {
    throw new RangeError("Cannot compute SQuAD metrics: there are no questions");
  }
  let em = 0, f1 = 0;
  for (let i = 0; i < golds.length; i++) {
    const p = predictions[i];
    if (p === null || p === undefined) continue;
    em += bestOver(answerExactMatch, p, golds[i]);
    f1 += bestOver(answerF1, p, golds[i]);
  }
  return { exact_match: (100 * em) / golds.length, f1: (100 * f1) / golds.length };
}
