/**
 * Extractive question answering features, as BERT's and Hugging Face's `run_squad` build them:
 * `[CLS] question [SEP] context window [SEP]`, with token types 0 then 1.
 *
 * - The question keeps its first `maxQueryLength` tokens (64 by default).
 * - A context longer than `maxSeqLength - question - 3` tokens is split into windows of that
 *   many tokens, starting every `docStride` tokens (128 by default; never more than a window,
 *   so no token is skipped) until a window reaches the end, so windows overlap when the stride
 *   is shorter than a window.
 * - Each context token of a window records whether this window gives it the most context
 *   (`maxContext`, HF's `token_is_max_context`: the window where min(tokens left, tokens right)
 *   + 0.01 · window length is largest, the first such window on a tie); predictions are read
 *   only there.
 * - With answers (train and dev), the first answer's characters are mapped to the context
 *   tokens that overlap them; a window holding all of them gets their positions, any other
 *   window gets 0 for both (the `[CLS]` position: "no answer here"), as in training BERT on SQuAD.
 * - Every context token keeps its character span in the context (`charStarts`, `charEnds`;
 *   -1 on question and special tokens), so a predicted token span is cut from the original
 *   context text (HF's offset mapping, as `run_qa.py` does).
 *
 * Note that CA-MTL's `--max_seq_length` of 128 leaves windows of about 110 tokens; a
 * `docStride` of 64 or so keeps answers near a window's edge inside another window.
 *
 * @module
 */

import { int32s, uint8s } from "./_growable.ts";
import { SetBuilder, type TaskBuildOptions } from "./_set_builder.ts";
import type { FeatureSet } from "./features.ts";
import type { QaParagraph } from "./squad.ts";

/** Options for {@linkcode buildSpanFeatures}. */
export interface SpanBuildOptions extends TaskBuildOptions {
  /** Stride between window starts, in tokens (`--doc_stride`, default 128). */
  docStride?: number;
  /** Question tokens kept (`--max_query_length`, default 64). */
  maxQueryLength?: number;
}

/** HF's defaults for `--doc_stride` and `--max_query_length`. */
export const SPAN_DEFAULTS: Readonly<{ docStride: number; maxQueryLength: number }> = Object
  .freeze({ docStride: 128, maxQueryLength: 64 });

/** Window starts and lengths over `n` context tokens (BERT's `doc_spans`). */
export function contextWindows(n: number, window: number, stride: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n;) {
    const length = Math.min(window, n - start);
    out.push([start, length]);
    if (start + length === n) break;
    start += Math.min(length, stride);
  }
  return out;
}

/** Whether window `w` of `windows` gives context token `p` its most context. */
function isMaxContext(windows: [number, number][], w: number, p: number): boolean {
  let best = -1, bestScore = -Infinity;
  windows.forEach(([start, length], i) => {
    const end = start + length - 1;
    if (p < start || p > end) return;
    const score = Math.min(p - start, end - p) + 0.01 * length;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  return best === w;
}

/** The first and last context tokens overlapping characters [start, end), or null. */
function answerTokens(
  starts: number[],
  ends: number[],
  start: number,
  end: number,
): [number, number] | null {
  let first = -1, last = -1;
  for (let i = 0; i < starts.length; i++) {
    if (ends[i] > start && starts[i] < end) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? null : [first, last];
}

/**
 * Tokenizes paragraphs of questions into windowed span-extraction features.
 *
 * @param paragraphs From `readSquadFile` or `readMrqaFile`.
 * @param options Tokenizer, task (a `span-extraction` task), task id, split, max_seq_length,
 * doc stride and max query length.
 * @returns The features (one per window) with `extras.exampleIndex` (the question of each
 * window), `charStarts`, `charEnds`, `maxContext` and, when questions have answers,
 * `startPositions`/`endPositions`; `meta.ids`, `contexts`, `contextOf` and `golds` per question.
 * @throws {RangeError} For a task that is not span extraction, a stride or query length below
 * 1, or a question that leaves no room for the context (max_seq_length ≤ its tokens + 3).
 */
export async function buildSpanFeatures(
  paragraphs: AsyncIterable<QaParagraph> | Iterable<QaParagraph>,
  options: SpanBuildOptions,
): Promise<FeatureSet> {
  const docStride = options.docStride ?? SPAN_DEFAULTS.docStride;
  const maxQueryLength = options.maxQueryLength ?? SPAN_DEFAULTS.maxQueryLength;
  const b = new SetBuilder(options, { head: "span-extraction", minLength: 5 }, {
    docStride,
    maxQueryLength,
  });
  const { tokenizer, maxSeqLength } = options;
  if (
    !Number.isInteger(docStride) || docStride < 1 || !Number.isInteger(maxQueryLength) ||
    maxQueryLength < 1
  ) {
    throw new RangeError(
      `Cannot build features of "${b.key.task}": docStride is ${docStride} and maxQueryLength ${maxQueryLength}; both must be positive integers`,
    );
  }
  const charStarts = int32s(1 << 16), charEnds = int32s(1 << 16), maxContext = uint8s(1 << 16);
  const exampleIndex = int32s(), startPositions = int32s(), endPositions = int32s();
  const ids: string[] = [],
    contexts: string[] = [],
    contextOf: number[] = [],
    golds: string[][] = [];
  let answered = false;
  for await (const paragraph of paragraphs) {
    const ctx = tokenizer.tokenizeWithOffsets(paragraph.context);
    contexts.push(paragraph.context);
    for (const q of paragraph.questions) {
      const example = ids.length;
      ids.push(q.id);
      contextOf.push(contexts.length - 1);
      golds.push(q.golds);
      const query = tokenizer.tokenizeWithOffsets(q.question).ids.slice(0, maxQueryLength);
      const first = query.length + 2; // position of the first context token
      const room = maxSeqLength - query.length - 3;
      if (room < 1) {
        throw new RangeError(
          `Cannot build features of "${b.key.task}": maxSeqLength ${maxSeqLength} leaves no room for the context after the ${query.length} tokens of question "${q.id}"; raise it or lower maxQueryLength`,
        );
      }
      const windows = contextWindows(ctx.ids.length, room, docStride);
      const a = q.answers[0];
      if (a) answered = true;
      const gold = a ? answerTokens(ctx.starts, ctx.ends, a.start, a.start + a.text.length) : null;
      windows.forEach(([start, length], w) => {
        const seq = [
          tokenizer.clsId,
          ...query,
          tokenizer.sepId,
          ...ctx.ids.slice(start, start + length),
          tokenizer.sepId,
        ];
        const types = new Uint8Array(seq.length).fill(1, first);
        b.add(seq, types);
        for (let t = 0; t < seq.length; t++) {
          const p = start + t - first;
          const inContext = t >= first && t < first + length;
          charStarts.push(inContext ? ctx.starts[p] : -1);
          charEnds.push(inContext ? ctx.ends[p] : -1);
          maxContext.push(inContext && isMaxContext(windows, w, p) ? 1 : 0);
        }
        exampleIndex.push(example);
        const inside = gold !== null && gold[0] >= start && gold[1] < start + length;
        startPositions.push(inside ? gold![0] - start + first : 0);
        endPositions.push(inside ? gold![1] - start + first : 0);
      });
    }
  }
  return b.finish({
    labels: null,
    extras: {
      exampleIndex: exampleIndex.done(),
      charStarts: charStarts.done(),
      charEnds: charEnds.done(),
      maxContext: maxContext.done(),
      ...(answered
        ? { startPositions: startPositions.done(), endPositions: endPositions.done() }
        : {}),
    },
    meta: { ids, contexts, contextOf, golds },
  });
}
