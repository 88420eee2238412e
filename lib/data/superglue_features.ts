/**
 * SuperGLUE examples → features (the texts each task encodes are in `superglue.ts`):
 *
 * - pair tasks (BoolQ, CB, RTE, MultiRC, AX-b, AX-g): `[CLS] A [SEP] B [SEP]`, truncated longest
 *   first, exactly as GLUE pairs; MultiRC and AX-g keep their question and pair numbers in
 *   `extras.groups` for their metrics;
 * - COPA (multiple choice): one sequence per choice, `[CLS] premise + question [SEP] choice
 *   [SEP]`, the two stored consecutively (`extras.choices` = 2), the label the right choice;
 * - WiC and WSC (marked spans): the pair (WiC) or the text (WSC) encoded as above, and the token
 *   positions of the two marked spans in `extras.spans` (`[start, end)` in the sequence). No
 *   marker text is inserted: the head pools the spans' tokens, as jiant's span-comparison heads
 *   do, so the encoder sees the original sentences. A span is the tokens that overlap its
 *   characters; when truncation removed all of them it falls back to `[CLS]` (`[0, 1)`).
 *
 * Every set keeps the benchmark's `idx` of each example in `meta.ids` (MultiRC: passage,
 * question and answer idx in `meta.multirc`) for the submission files.
 *
 * @module
 */

import { truncateLongestFirst } from "../text/encoding.ts";
import type { TokenOffsets } from "../text/offsets.ts";
import { int32s } from "./_growable.ts";
import { SetBuilder, type TaskBuildOptions, type TaskTokenizer } from "./_set_builder.ts";
import type { FeatureExtras } from "./feature_extras.ts";
import type { FeatureSet } from "./features.ts";
import type { CharSpan, SuperGlueExample } from "./superglue.ts";

/** `[CLS] A [SEP] (B [SEP])`, longest-first truncated, with the token span of each char span. */
function encodeWithSpans(
  tokenizer: TaskTokenizer,
  ex: SuperGlueExample,
  maxSeqLength: number,
): { ids: number[]; types: number[]; spans: number[] } {
  const a = tokenizer.tokenizeWithOffsets(ex.textA);
  const b = ex.textB === null ? null : tokenizer.tokenizeWithOffsets(ex.textB);
  const specials = b === null ? 2 : 3;
  const [keepA, keepB] = truncateLongestFirst(
    b === null ? [a.ids.length] : [a.ids.length, b.ids.length],
    maxSeqLength - specials,
  );
  const ids = [tokenizer.clsId, ...a.ids.slice(0, keepA), tokenizer.sepId];
  const types = ids.map(() => 0);
  if (b !== null) {
    ids.push(...b.ids.slice(0, keepB), tokenizer.sepId);
    while (types.length < ids.length) types.push(1);
  }
  const spans: number[] = [];
  for (const span of ex.spans ?? []) {
    const [seg, kept, first] = span.segment === 0 ? [a, keepA, 1] : [b!, keepB, keepA + 2];
    spans.push(...tokenSpan(seg, kept, span, first));
  }
  return { ids, types, spans };
}

/** `[start, end)` in the sequence of the kept tokens overlapping `span`, else `[0, 1)`. */
function tokenSpan(
  seg: TokenOffsets,
  kept: number,
  span: CharSpan,
  first: number,
): [number, number] {
  let lo = -1, hi = -1;
  for (let i = 0; i < kept; i++) {
    if (seg.ends[i] > span.start && seg.starts[i] < span.end) {
      if (lo < 0) lo = i;
      hi = i;
    }
  }
  return lo < 0 ? [0, 1] : [first + lo, first + hi + 1];
}

/**
 * Tokenizes SuperGLUE examples of one task into features.
 *
 * @param examples From `readSuperGlueExamples`, of the task named in `options`.
 * @param options Tokenizer, task, task id, split, max_seq_length.
 * @returns The features (see the module doc for each task's extras and meta).
 * @throws {RangeError} For an unknown task or a task of another family, a max_seq_length
 * below 3, or a label outside the task's labels.
 * @throws {TypeError} When labelled and unlabelled examples are mixed or an example lacks the
 * choices or spans its task needs.
 */
export async function buildSuperGlueFeatures(
  examples: AsyncIterable<SuperGlueExample> | Iterable<SuperGlueExample>,
  options: TaskBuildOptions,
): Promise<FeatureSet> {
  const { tokenizer, maxSeqLength } = options;
  const head = options.task === "copa" ? "multiple-choice" : "classification";
  const b = new SetBuilder(options, { head, minLength: 3 });
  const task = b.key.task, markedSpans = b.def.markedSpans ?? 0;
  const labels = int32s(), groups = int32s(), spans = int32s();
  const ids: (number | string)[] = [], multirc: [number, number, number][] = [];
  let labelled: boolean | null = null;
  for await (const ex of examples) {
    const fail = (why: string) =>
      new TypeError(`Cannot build features of "${task}" line ${ex.line}: ${why}`);
    if (labelled === null) labelled = ex.label !== null;
    if (labelled !== (ex.label !== null)) throw fail("labelled and unlabelled examples are mixed");
    if (ex.label !== null) {
      if (!(Number.isInteger(ex.label) && ex.label >= 0 && ex.label < b.def.numLabels)) {
        throw new RangeError(
          `Cannot build features of "${task}" line ${ex.line}: label ${ex.label} is not a class index in [0, ${b.def.numLabels})`,
        );
      }
      labels.push(ex.label);
    }
    if (head === "multiple-choice") {
      if (ex.choices?.length !== b.def.numLabels) {
        throw fail(`it needs ${b.def.numLabels} choices`);
      }
      for (const choice of ex.choices) {
        const enc = tokenizer.encode(ex.textA, choice, { maxLength: maxSeqLength });
        b.add(enc.inputIds, enc.tokenTypeIds);
      }
    } else if (markedSpans > 0) {
      if (ex.spans?.length !== markedSpans) throw fail(`it needs ${markedSpans} marked spans`);
      const enc = encodeWithSpans(tokenizer, ex, maxSeqLength);
      b.add(enc.ids, enc.types);
      spans.pushAll(enc.spans);
    } else {
      const enc = tokenizer.encode(ex.textA, ex.textB ?? undefined, { maxLength: maxSeqLength });
      b.add(enc.inputIds, enc.tokenTypeIds);
    }
    if (ex.group !== undefined) groups.push(ex.group);
    if (ex.multirc !== undefined) multirc.push(ex.multirc);
    ids.push(ex.idx);
  }
  const extras: FeatureExtras = {};
  if (head === "multiple-choice") extras.choices = b.def.numLabels;
  if (markedSpans > 0) Object.assign(extras, { spanCount: markedSpans, spans: spans.done() });
  if (groups.size > 0) {
    if (groups.size !== ids.length) {
      throw new TypeError(`Cannot build features of "${task}": only some examples have a group`);
    }
    extras.groups = groups.done();
  }
  return b.finish({
    labels: labelled ? labels.done() : null,
    extras: Object.keys(extras).length > 0 ? extras : null,
    meta: multirc.length > 0 ? { ids, multirc } : { ids },
  });
}
