/**
 * What a {@linkcode FeatureSet} carries beyond ids, token types and one label per example, for
 * the heads beyond sequence classification. Two parts:
 *
 * - {@linkcode FeatureExtras}: typed arrays the model and the batches need, each with a fixed
 *   shape (per token, per feature, per marked span), listed in {@linkcode EXTRA_ARRAYS};
 * - {@linkcode ExampleMeta}: plain JSON needed only after the model has run, to turn outputs back
 *   into text and into the benchmark's submission format (ids, words, contexts, gold answers).
 *
 * Which task kind uses what ("feature" = one row of the set, N of them; "token" = one of the T
 * ids laid end to end):
 *
 * | kind | labels | extras | meta |
 * | --- | --- | --- | --- |
 * | classification | `[N]` class | `groups` (MultiRC question, AX-g pair) | `ids`, `multirc` |
 * | marked spans (WiC, WSC) | `[N]` class | `spanCount`, `spans` `[N, spanCount, 2]` | `ids` |
 * | multiple choice (COPA) | `[N]` choice | `choices` = C: example i is sequences i·C … i·C+C-1 | `ids` |
 * | token classification | none | `tokenLabels` `[T]` (-100 = ignored), `tokenWords` `[T]` (-1 = special) | `words`, `tags` |
 * | span extraction | none | `exampleIndex` `[N]`, `charStarts`/`charEnds` `[T]` (-1 outside the context), `maxContext` `[T]`, `startPositions`/`endPositions` `[N]` | `ids`, `contexts`, `contextOf`, `golds` |
 *
 * Spans are `[start, end)` token positions in the feature's own sequence (`[CLS]` is 0).
 *
 * @module
 */

/** The value HF uses for "no label here" in token classification, ignored by the loss. */
export const IGNORE_INDEX: number = -100;

/** Typed arrays beyond ids, token types and labels (see the module doc for who uses what). */
export interface FeatureExtras {
  /** Multiple choice: encoded sequences per example (the set's offsets hold N·choices + 1). */
  choices?: number;
  /** Marked spans per example (WiC: the word in each sentence; WSC: the two mentions). */
  spanCount?: number;
  /** `[T]` tag id at the first piece of each word, {@linkcode IGNORE_INDEX} elsewhere. */
  tokenLabels?: Int32Array;
  /** `[T]` index of the word each token comes from, -1 for special tokens. */
  tokenWords?: Int32Array;
  /** `[T]` first character of each context token in its context, -1 for other tokens. */
  charStarts?: Int32Array;
  /** `[T]` one past the last character of each context token, -1 for other tokens. */
  charEnds?: Int32Array;
  /** `[T]` 1 where this window gives the token its most context (HF's token_is_max_context). */
  maxContext?: Uint8Array;
  /** `[N]` the question each window (feature) comes from. */
  exampleIndex?: Int32Array;
  /** `[N]` gold start token of the answer in the window, 0 (`[CLS]`) when it is outside. */
  startPositions?: Int32Array;
  /** `[N]` gold end token (inclusive), 0 when the answer is outside the window. */
  endPositions?: Int32Array;
  /** `[N · spanCount · 2]` start and end (exclusive) token of each marked span. */
  spans?: Int32Array;
  /** `[N]` the group each example is scored in (MultiRC question, AX-g pair). */
  groups?: Int32Array;
}

/** JSON-able per-example information for post-processing and submission files. */
export interface ExampleMeta {
  /** Per example (per question for span extraction): the benchmark's id. */
  ids?: (string | number)[];
  /** MultiRC, per example: passage, question and answer `idx`. */
  multirc?: [number, number, number][];
  /** Token classification, per example: its words. */
  words?: string[][];
  /** Token classification, per example: the gold tag of each word (absent without tags). */
  tags?: string[][];
  /** Span extraction: the distinct contexts. */
  contexts?: string[];
  /** Span extraction, per question: index into `contexts`. */
  contextOf?: number[];
  /** Span extraction, per question: the gold answers. */
  golds?: string[][];
}

/** Names of the typed arrays in {@linkcode FeatureExtras}. */
export type ExtraArrayName = Exclude<keyof FeatureExtras, "choices" | "spanCount">;

/** Shape and dtype of each typed array, in the order a cache file stores them. */
export const EXTRA_ARRAYS: Readonly<
  Record<ExtraArrayName, { dtype: "int32" | "uint8"; per: "token" | "feature" | "span" }>
> = Object.freeze({
  tokenLabels: { dtype: "int32", per: "token" },
  tokenWords: { dtype: "int32", per: "token" },
  charStarts: { dtype: "int32", per: "token" },
  charEnds: { dtype: "int32", per: "token" },
  maxContext: { dtype: "uint8", per: "token" },
  exampleIndex: { dtype: "int32", per: "feature" },
  startPositions: { dtype: "int32", per: "feature" },
  endPositions: { dtype: "int32", per: "feature" },
  spans: { dtype: "int32", per: "span" },
  groups: { dtype: "int32", per: "feature" },
});

/** The array names present in `extras`, in {@linkcode EXTRA_ARRAYS} order. */
export function extraArrayNames(extras: FeatureExtras): ExtraArrayName[] {
  return (Object.keys(EXTRA_ARRAYS) as ExtraArrayName[]).filter((k) => extras[k] !== undefined);
}

/**
 * Checks that every array has its shape for N features and T tokens.
 *
 * @returns A description of the first problem, or null.
 */
export function extrasProblem(extras: FeatureExtras, n: number, tokens: number): string | null {
  const choices = extras.choices ?? 1, spanCount = extras.spanCount ?? 0;
  if (!Number.isInteger(choices) || choices < 1) return `choices is ${extras.choices}`;
  if (!Number.isInteger(spanCount) || spanCount < 0) return `spanCount is ${extras.spanCount}`;
  if ((extras.spans === undefined) !== (spanCount === 0)) {
    return `spans and spanCount (${spanCount}) disagree`;
  }
  for (const name of extraArrayNames(extras)) {
    const { dtype, per } = EXTRA_ARRAYS[name];
    const a = extras[name]!;
    if (!(dtype === "uint8" ? a instanceof Uint8Array : a instanceof Int32Array)) {
      return `${name} is not a ${dtype === "uint8" ? "Uint8Array" : "Int32Array"}`;
    }
    const want = per === "token" ? tokens : per === "feature" ? n : n * spanCount * 2;
    if (a.length !== want) return `${name} has ${a.length} entries, expected ${want}`;
  }
  return null;
}

/** How a set's extras are described in a cache file's header. */
export interface ExtrasLayout {
  /** As {@linkcode FeatureExtras.choices}. */
  choices?: number;
  /** As {@linkcode FeatureExtras.spanCount}. */
  spanCount?: number;
  /** The arrays stored, in {@linkcode EXTRA_ARRAYS} order. */
  arrays: ExtraArrayName[];
}

/** The header description of `extras`. */
export function extrasLayout(extras: FeatureExtras): ExtrasLayout {
  return { choices: extras.choices, spanCount: extras.spanCount, arrays: extraArrayNames(extras) };
}

function entries(name: ExtraArrayName, layout: ExtrasLayout, n: number, tokens: number): number {
  const per = EXTRA_ARRAYS[name].per;
  return per === "token" ? tokens : per === "feature" ? n : n * (layout.spanCount ?? 0) * 2;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Bytes the arrays of `layout` take for N features and T tokens, each padded to 4.
 *
 * @throws {TypeError} When the layout names an array that does not exist.
 */
export function extrasByteLength(layout: ExtrasLayout, n: number, tokens: number): number {
  let bytes = 0;
  for (const name of layout.arrays) {
    if (!(name in EXTRA_ARRAYS)) throw new TypeError(`unknown extra array "${name}"`);
    const count = entries(name, layout, n, tokens);
    bytes += align4(EXTRA_ARRAYS[name].dtype === "uint8" ? count : 4 * count);
  }
  return bytes;
}

/** Views of the arrays of `layout` stored in `buffer` from byte `at` (as laid out above). */
export function extrasViews(
  layout: ExtrasLayout,
  buffer: ArrayBufferLike,
  at: number,
  sizes: { n: number; tokens: number },
): FeatureExtras {
  const extras: FeatureExtras = {};
  if (layout.choices !== undefined) extras.choices = layout.choices;
  if (layout.spanCount !== undefined) extras.spanCount = layout.spanCount;
  const out = extras as Record<ExtraArrayName, Int32Array | Uint8Array>;
  for (const name of layout.arrays) {
    const count = entries(name, layout, sizes.n, sizes.tokens);
    if (EXTRA_ARRAYS[name].dtype === "uint8") {
      out[name] = new Uint8Array(buffer, at, count);
      at += align4(count);
    } else {
      out[name] = new Int32Array(buffer, at, count);
      at += 4 * count;
    }
  }
  return extras;
}
