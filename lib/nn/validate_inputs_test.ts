/**
 * Bad indices through `BertModel.forward`, as a new user would send them: before these checks
 * the kernels clamped them (id 40000 gave exactly the output of the last row) and nothing said
 * so. Uses the tiny BERT fixture's config: vocab_size 512, type_vocab_size 2,
 * max_position_embeddings 64.
 */
import assert from "node:assert/strict";
import { readBertConfig } from "../io/config.ts";
import type { Gpu } from "../gpu/device.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { type BertInputs, uploadBatch } from "./bert/inputs.ts";
import { BertModel } from "./bert/model.ts";
import { checkBertBatch, checkFiniteTargets, checkIndexRange } from "./validate_inputs.ts";

const CONFIG = new URL("../../tests/fixtures/tiny_bert/config.json", import.meta.url).pathname;

async function tinyBert(gpu: Gpu): Promise<BertModel> {
  return new BertModel(await readBertConfig(CONFIG)).materialize(gpu, 1);
}

/** A `[B, T]` batch of id 5, type 0, every token real, with `edit` applied. */
function batch(B: number, S: number, edit: (ids: Int32Array, types: Int32Array) => void) {
  const inputIds = new Int32Array(B * S).fill(5), tokenTypeIds = new Int32Array(B * S);
  edit(inputIds, tokenTypeIds);
  return {
    inputIds,
    tokenTypeIds,
    attentionMask: new Int32Array(B * S).fill(1),
    batchSize: B,
    seqLength: S,
  };
}

const CASES: {
  name: string;
  B: number;
  S: number;
  edit: (i: Int32Array, t: Int32Array) => void;
  message: string;
}[] = [
  {
    name: "token id 999999",
    B: 4,
    S: 18,
    edit: (ids) => ids[3 * 18 + 17] = 999999,
    message: "Cannot embed input_ids: value 999999 at [3, 17] is outside [0, 512) (vocab_size)",
  },
  {
    name: "token id -3",
    B: 2,
    S: 7,
    edit: (ids) => ids[1 * 7 + 2] = -3,
    message: "Cannot embed input_ids: value -3 at [1, 2] is outside [0, 512) (vocab_size)",
  },
  {
    name: "token type 5",
    B: 2,
    S: 7,
    edit: (_, types) => types[4] = 5,
    message: "Cannot embed token_type_ids: value 5 at [0, 4] is outside [0, 2) (type_vocab_size)",
  },
  {
    name: "a 100-token batch on 64 position embeddings",
    B: 1,
    S: 100,
    edit: () => {},
    message: "Cannot embed position_ids: value 99 at [99] is outside [0, 64) " +
      "(max_position_embeddings): the batch has 100 tokens per row; truncate to 64 " +
      "(--max_seq_length)",
  },
];

for (const c of CASES) {
  gpuTest(
    `BertModel.forward() refuses ${c.name}, naming value, position and limit`,
    async (gpu) => {
      const model = await tinyBert(gpu);
      try {
        const inputs = uploadBatch(gpu, batch(c.B, c.S, c.edit));
        assert.throws(
          () => model.forward(inputs),
          (e: Error) => e instanceof RangeError && e.message === c.message,
        );
      } finally {
        model.dispose();
      }
    },
  );
}

gpuTest(
  "BertModel.forward() with GPU-made ids reports a bad id at the next readback",
  async (gpu) => {
    const model = await tinyBert(gpu);
    try {
      const host = batch(2, 5, (ids) => ids[7] = 40000);
      const uploaded = uploadBatch(gpu, host);
      // The same tensors without the host arrays: ids that only ever existed on the GPU.
      const inputs: BertInputs = { ...uploaded, host: undefined };
      const out = model.forward(inputs);
      await assert.rejects(
        out.sequence.read(),
        (e: Error) =>
          e instanceof RangeError &&
          e.message ===
            'Cannot run "embedding" on ids: value 40000 at [1, 2] is outside [0, 512) ' +
              "(rows of embeddings.word_embeddings.weight)",
      );
      // The flag is cleared by the report: good ids read normally afterwards.
      const fine = model.forward({ ...uploadBatch(gpu, batch(2, 5, () => {})), host: undefined });
      assert.equal((await fine.pooled.read()).length, 2 * 64);
    } finally {
      model.dispose();
    }
  },
);

gpuTest("BertModel.forward() accepts the largest valid id, type and length", async (gpu) => {
  const model = await tinyBert(gpu);
  try {
    const inputs = uploadBatch(
      gpu,
      batch(1, 64, (ids, types) => {
        ids[63] = 511;
        types[63] = 1;
      }),
    );
    const out = model.forward(inputs);
    assert.ok((await out.pooled.readFloat()).every(Number.isFinite));
  } finally {
    model.dispose();
  }
});

Deno.test("checkIndexRange() refuses fractions and NaN, checkFiniteTargets() NaN and infinities", () => {
  const what = { action: "embed", tensor: "x", shape: [3], limit: 4, limitName: "n" };
  assert.throws(() => checkIndexRange([0, 1.5, 2], what), /value 1.5 at \[1\]/);
  assert.throws(() => checkIndexRange([0, NaN], what), /value NaN at \[1\]/);
  const t = { action: "use", tensor: 'labels of "sts-b"' };
  checkFiniteTargets([0, 5.5, -1e30], t);
  assert.throws(
    () => checkFiniteTargets([1, 2, NaN], t),
    /^RangeError: Cannot use labels of "sts-b": value NaN at \[2\] is not finite$/,
  );
  assert.throws(() => checkFiniteTargets([Infinity], t), /value Infinity at \[0\]/);
  assert.throws(
    () =>
      checkBertBatch({ inputIds: [1, 2], tokenTypeIds: [0, 0], batchSize: 1, seqLength: 2 }, {
        vocabSize: 2,
        typeVocabSize: 1,
        maxPositionEmbeddings: 8,
      }),
    /input_ids: value 2 at \[0, 1\] is outside \[0, 2\)/,
  );
});
