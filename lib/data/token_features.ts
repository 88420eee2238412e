/**
 * Token classification features, as Hugging Face's token-classification examples build them:
 * `[CLS]`, the WordPiece tokens of each word in turn, `[SEP]`; the first piece of each word
 * carries the word's tag id, every other piece and the special tokens carry -100 (ignored by
 * the loss); a sentence longer than max_seq_length keeps its first `maxSeqLength - 2` tokens.
 *
 * A word that yields no token (only characters the tokenizer drops, such as a lone zero-width
 * space) gets no position, as in HF; its prediction is written as `O`. Words cut off by
 * truncation get `O` too. The gold tags of every word stay in `meta.tags`, so the metrics score
 * whole sentences, truncated words included (HF's examples score only the words that fit; on
 * WNUT-2017 at 128 tokens the two agree).
 *
 * @module
 */

import { int32s } from "./_growable.ts";
import { SetBuilder, type TaskBuildOptions } from "./_set_builder.ts";
import type { TaggedSentence } from "./conll.ts";
import { IGNORE_INDEX } from "./feature_extras.ts";
import type { FeatureSet } from "./features.ts";
import { getTask } from "./tasks.ts";

/**
 * Tokenizes tagged sentences into token classification features.
 *
 * @param sentences The sentences, e.g. `readConllSentences(...)`; either all tagged or none.
 * @param options Tokenizer, task (a `token-classification` task), task id, split, max length.
 * @returns The features: `extras.tokenLabels` (when tagged) and `extras.tokenWords` per token,
 * `meta.words` and `meta.tags` per sentence.
 * @throws {RangeError} For a task that is not token classification, a max_seq_length below 3,
 * or a tag outside the task's labels.
 * @throws {TypeError} When tagged and untagged sentences are mixed.
 * @example
 * ```ts
 * import { BertTokenizer } from "../text/tokenizer.ts";
 * import { buildTokenFeatures } from "./token_features.ts";
 * const tokenizer = BertTokenizer.fromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "new", "york", "##er"]);
 * const set = await buildTokenFeatures(
 *   [{ line: 1, words: ["new", "yorker"], tags: ["B-location", "I-location"] }],
 *   { tokenizer, task: "wnut17", taskId: 0, split: "dev", maxSeqLength: 16 },
 * );
 * // [CLS] new york ##er [SEP]: B-location is tag 7, I-location 8
 * if (Array.from(set.extras!.tokenLabels!).join() !== "-100,7,8,-100,-100") throw new Error();
 * ```
 */
export async function buildTokenFeatures(
  sentences: AsyncIterable<TaggedSentence> | Iterable<TaggedSentence>,
  options: TaskBuildOptions,
): Promise<FeatureSet> {
  const b = new SetBuilder(options, { head: "token-classification", minLength: 3 });
  const { tokenizer, maxSeqLength } = options;
  const tagIds = new Map(b.def.labels!.map((t, i) => [t, i]));
  const tokenLabels = int32s(1 << 16), tokenWords = int32s(1 << 16);
  const words: string[][] = [], tags: string[][] = [];
  let tagged: boolean | null = null;
  for await (const s of sentences) {
    const has = s.tags !== null;
    if (tagged === null) tagged = has;
    if (tagged !== has) {
      throw new TypeError(
        `Cannot build features of "${b.key.task}" line ${s.line}: tagged and untagged sentences are mixed`,
      );
    }
    const ids = [tokenizer.clsId], labels = [IGNORE_INDEX], wordOf = [-1];
    for (let w = 0; w < s.words.length && ids.length < maxSeqLength - 1; w++) {
      const pieces = tokenizer.tokenizeWithOffsets(s.words[w]).ids;
      let tag = IGNORE_INDEX;
      if (has) {
        const id = tagIds.get(s.tags![w]);
        if (id === undefined) {
          throw new RangeError(
            `Cannot build features of "${b.key.task}" line ${s.line + w}: tag "${
              s.tags![w]
            }" is not one of its labels`,
          );
        }
        tag = id;
      }
      for (let p = 0; p < pieces.length && ids.length < maxSeqLength - 1; p++) {
        ids.push(pieces[p]);
        labels.push(p === 0 ? tag : IGNORE_INDEX);
        wordOf.push(w);
      }
    }
    ids.push(tokenizer.sepId);
    labels.push(IGNORE_INDEX);
    wordOf.push(-1);
    b.add(ids, new Uint8Array(ids.length));
    if (has) tokenLabels.pushAll(labels);
    tokenWords.pushAll(wordOf);
    words.push(s.words);
    if (has) tags.push(s.tags!);
  }
  return b.finish({
    labels: null,
    extras: {
      tokenWords: tokenWords.done(),
      ...(tagged ? { tokenLabels: tokenLabels.done() } : {}),
    },
    meta: tagged ? { words, tags } : { words },
  });
}

/**
 * Word-level tags from per-token predictions: each word takes the prediction at its first
 * token; words without a token (dropped by the tokenizer or by truncation) get `O`.
 *
 * @param set Token classification features.
 * @param tokenPredictions `[T]` predicted tag id of every token of `set` (aligned with
 * `set.inputIds`, e.g. the argmax of the token logits with padding removed).
 * @returns Per example, the predicted tag of each word.
 * @throws {TypeError} When `set` is not token classification features or the lengths differ.
 */
export function wordTags(set: FeatureSet, tokenPredictions: ArrayLike<number>): string[][] {
  const wordsOf = set.extras?.tokenWords,
    words = set.meta?.words,
    labels = getTask(set.task).labels;
  if (!wordsOf || !words || !labels || tokenPredictions.length !== set.inputIds.length) {
    throw new TypeError(
      `Cannot read word tags of "${set.task}": it needs token classification features and one prediction per token (${set.inputIds.length}), got ${tokenPredictions.length}`,
    );
  }
  return words.map((ws, e) => {
    const out = ws.map(() => "O");
    let last = -1;
    for (let t = set.offsets[e]; t < set.offsets[e + 1]; t++) {
      const w = wordsOf[t];
      if (w >= 0 && w !== last) out[w] = labels[tokenPredictions[t]] ?? "O";
      last = w;
    }
    return out;
  });
}
