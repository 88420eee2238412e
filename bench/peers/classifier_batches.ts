/**
 * The small-classifier benchmark's data: real SST-2 training sentences, tokenized with
 * bert-base-uncased's vocabulary to at most 64 tokens, in seeded shuffled batches of 32, each
 * padded to its longest sentence as `trainBatches` pads them. Every implementation trains on
 * these same batches, in the same order (PyTorch reads them from a JSON file).
 *
 * @module
 */

import { type Batch, collateIndices, PAD_MULTIPLE, trainBatches } from "../../lib/data/loader.ts";
import { loadGlueFeatures } from "../../lib/data/cache.ts";
import { BertTokenizer } from "../../lib/text/tokenizer.ts";
import type { LayerShape } from "./timing.ts";
import { DATA_DIR } from "../../tests/_util/data.ts";

/** The model: BERT with hidden 128, 2 layers, 2 heads (FFN 512), vocabulary 30,522, 2 classes. */
export interface ClassifierShape extends LayerShape {
  layers: number;
  vocab: number;
  classes: number;
  /** Most tokens in a sentence. */
  maxSeqLength: number;
}

/** The shape the comparison names: hidden 128, 2 layers, 2 heads, B = 32, T ≤ 64. */
export const CLASSIFIER: ClassifierShape = {
  B: 32,
  T: 64,
  H: 128,
  heads: 2,
  ffn: 512,
  layers: 2,
  vocab: 30522,
  classes: 2,
  maxSeqLength: 64,
};

/**
 * `count` batches of SST-2 training sentences.
 *
 * @throws {Error} naming the folder when SST-2 or the vocabulary is missing.
 */
export async function classifierBatches(count: number, s = CLASSIFIER): Promise<Batch[]> {
  return (await classifierBatchSets(count, [PAD_MULTIPLE], s))[0];
}

/**
 * The same `count` batches once per entry of `padToMultipleOf` (each padded to its longest
 * sentence rounded up to that multiple), from one tokenization.
 */
export async function classifierBatchSets(
  count: number,
  padToMultipleOf: readonly number[],
  s = CLASSIFIER,
): Promise<Batch[][]> {
  const data = DATA_DIR;
  let tokenizer: BertTokenizer;
  try {
    tokenizer = await BertTokenizer.fromFolder(`${data}/bert-base-uncased`, { doLowerCase: true });
  } catch (e) {
    throw new Error(`Cannot load the vocabulary from ${data}/bert-base-uncased: ${e}`);
  }
  const cacheDir = await Deno.makeTempDir({ prefix: "camtl-bench-" });
  try {
    const { features } = await loadGlueFeatures({
      dataDir: `${data}/glue`,
      task: "sst-2",
      taskId: 0,
      split: "train",
      tokenizer,
      maxSeqLength: s.maxSeqLength,
      cacheDir,
    });
    const batches = [...trainBatches(features, { batchSize: s.B, steps: count, seed: 3 })];
    return padToMultipleOf.map((multiple) =>
      batches.map((b) => collateIndices(features, b.exampleIds, { padToMultipleOf: multiple }))
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
}

/** The batches as `torch_cpu.py --batches` reads them. */
export function batchesJson(batches: readonly Batch[]): string {
  return JSON.stringify(batches.map((b) => ({
    B: b.size,
    T: b.seqLen,
    ids: [...b.inputIds],
    types: [...b.tokenTypeIds],
    mask: [...b.attentionMask],
    labels: [...(b.tasks[0].labels as Int32Array)],
  })));
}
