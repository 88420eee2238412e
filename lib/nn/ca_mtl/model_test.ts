import assert from "node:assert/strict";
import { CaMtl } from "./model.ts";
import { BERT_BASE_CASED, BERT_LARGE_CASED, type CaMtlConfig } from "./config.ts";
import { freezeEncoderLayers } from "./freeze.ts";
import { blockGeometry } from "./conditional.ts";
import { GLUE_TASKS, numLabels } from "../../data/glue_tasks.ts";
import { caMtlTinyBert } from "./config.ts";
import { BertModel } from "../bert/model.ts";
import { uploadBatch } from "../bert/inputs.ts";
import { backward } from "../../autograd/backward.ts";
import { fromArray } from "../../autograd/tensor.ts";
import { mul } from "../../ops/elementwise.ts";
import { sum } from "../../ops/reduce.ts";
import { zeroGrad } from "../../optim/zero_grad.ts";
import { gpuTest } from "../../../tests/_util/gpu.ts";
import { randomHostBatch } from "../../../tests/_util/data.ts";
import { assertAllClose } from "../../../tests/_util/allclose.ts";
import { Rng } from "../../../tests/_util/rng.ts";

const TASKS = GLUE_TASKS.map((name) => ({ name, numLabels: numLabels(name) }));

function build(architecture: CaMtlConfig["architecture"]) {
  const bert = architecture === "CA-MTL-large" ? BERT_LARGE_CASED : BERT_BASE_CASED;
  return new CaMtl({ architecture, bert, tasks: TASKS, maxSeqLength: 128 });
}

Deno.test("CA-MTL-base: 128,065,570 parameters, 58,273,756 frozen by 0-4 (model.md §10.2)", () => {
  const model = build("CA-MTL-base");
  assert.equal(model.countParameters().total, 128_065_570);
  freezeEncoderLayers(model.bert, "0-4", 12);
  const counts = model.countParameters();
  assert.equal(counts.frozen, 58_273_756);
  assert.equal(counts.trainable, 69_791_814);
});

Deno.test("CA-MTL-large has 480,337,674 parameters, 181,768,576 frozen under 0-11", () => {
  const model = build("CA-MTL-large");
  assert.equal(model.countParameters().total, 480_337_674);
  freezeEncoderLayers(model.bert, "0-11", 24);
  assert.equal(model.countParameters().frozen, 181_768_576);
});

Deno.test("freezing keeps A and the adapter trainable and freezes the CBDA generator", () => {
  const model = build("CA-MTL-base");
  const { frozenNames } = freezeEncoderLayers(model.bert, "0-4", 12);
  const frozen = new Set(frozenNames);
  assert.ok(frozen.has("encoder.layer.0.attention.self.cond_block_diag_attn.gb_weights.weight"));
  assert.ok(!frozen.has("encoder.layer.0.attention.self.random_weight_matrix"));
  assert.ok(frozen.has("embeddings.word_embeddings.weight"));
  assert.ok(!frozen.has("encoder.layer.5.attention.self.query.weight"));
  assert.ok(!frozen.has("task_type_embeddings.weight"));
  assert.ok(!frozen.has("conditional_alignment.gb_weights.weight"));
});

Deno.test("freezing works on the plain BERT baseline and rejects ranges outside the model", () => {
  const model = build("bert");
  freezeEncoderLayers(model.bert, "0-5", 12);
  assert.ok(model.countParameters().frozen > 0);
  assert.throws(() => freezeEncoderLayers(model.bert, "5-99", 12), /has 12 layers \(0-11\)/);
  assert.throws(() => freezeEncoderLayers(model.bert, "4", 12), /expected START-END/);
});

Deno.test("H not divisible by L names the lengths that would work", () => {
  assert.throws(
    () => blockGeometry(768, 100),
    (e: unknown) =>
      e instanceof RangeError && /768 is not a multiple of max_seq_length 100/.test(e.message) &&
      /\b128\b/.test(e.message) && /\b384\b/.test(e.message),
  );
  assert.deepEqual(blockGeometry(768, 128), { blocks: 6, width: 22 });
  assert.deepEqual(blockGeometry(1024, 128), { blocks: 8, width: 16 });
});

Deno.test("checkpoint keys follow the released PyTorch model", () => {
  const keys = new Set(build("CA-MTL-base").namedParameters().map(([k]) => k));
  for (
    const k of [
      "bert.task_type_embeddings.weight",
      "bert.conditional_alignment.gb_weights.weight",
      "bert.embeddings.LayerNorm.weight",
      "bert.encoder.task_transformation.weight",
      "bert.encoder.layer.0.attention.self.random_weight_matrix",
      "bert.encoder.layer.0.attention.self.cond_block_diag_attn.gb_weights.bias",
      "bert.encoder.layer.0.attention.output.LayerNorm.weight",
      "bert.encoder.layer.6.attention.output.LayerNorm.ln_weight_modulation.gb_weights.weight",
      "bert.encoder.layer.10.output.LayerNorm.bias",
      "bert.encoder.layer.11.new_attention.self.query.weight",
      "bert.encoder.layer.11.new_intermediate.dense.weight",
      "bert.encoder.layer.11.new_output.LayerNorm.weight",
      "bert.encoder.layer.11.adapter.bottleneck.emb_transf.weight",
      "bert.encoder.layer.11.adapter.bottleneck.hidden_modulation.gb_weights.weight",
      "bert.encoder.layer.11.adapter.bottleneck.down_proj_layer.weight",
      "bert.encoder.layer.11.adapter.condlayernorm.ln_weight_modulation.gb_weights.weight",
      "bert.pooler.dense.weight",
      "decoders.8.model.bias",
    ]
  ) assert.ok(keys.has(k), k);
  assert.ok(!keys.has("bert.encoder.layer.11.attention.self.query.weight"));
  const large = new Set(build("CA-MTL-large").namedParameters().map(([k]) => k));
  assert.ok(large.has("bert.encoder.adapter_layer.23.up_proj_layer.weight"));
  assert.ok(
    large.has("bert.encoder.layer.12.output.LayerNorm.ln_weight_modulation.gb_weights.bias"),
  );
  assert.ok(
    !large.has("bert.encoder.layer.11.output.LayerNorm.ln_weight_modulation.gb_weights.bias"),
  );
});

for (const architecture of ["CA-MTL-base", "CA-MTL-large", "bert"] as const) {
  gpuTest(
    `${architecture}: with the last layer on [CLS] alone, the pooled vector and gradients are the same`,
    async (gpu) => {
      const bert = { ...caMtlTinyBert(300), hiddenSize: 32, numAttentionHeads: 2 };
      const tasks = [{ name: "mrpc", numLabels: 2 }, { name: "sts-b", numLabels: 1 }];
      const model = new CaMtl({ architecture, bert, tasks, maxSeqLength: 16 }, { seed: 3 })
        .materialize(gpu, 3)
        .eval();
      const host = randomHostBatch({ B: 4, S: 13, vocab: 300, seed: 2 });
      const batch = {
        inputs: uploadBatch(gpu, host),
        taskIds: Int32Array.of(0, 1, 0, 1),
        tasks: [
          { taskId: 0, rows: Int32Array.of(0, 2), labels: Int32Array.of(1, 0) },
          { taskId: 1, rows: Int32Array.of(1, 3), labels: Float32Array.of(0.5, 2) },
        ],
      };
      const params = model.parameters().map((p) => p.value);
      const run = async (full: boolean) => {
        const enc = model.bert;
        const ids = fromArray(gpu, batch.taskIds, [4], { dtype: "i32" });
        const out = enc instanceof BertModel
          ? enc.forward(batch.inputs, { clsOnly: !full })
          : enc.forward(batch.inputs, ids, !full);
        assert.equal(out.sequence.shape[1], full ? 13 : 1);
        const r = fromArray(gpu, new Rng(5).array(4 * 32), [4, 32]);
        backward(sum({ x: mul({ a: out.pooled, b: r }) }));
        const grads = await Promise.all(params.map((p) => p.grad?.readFloat() ?? null));
        zeroGrad(params, { setToNone: true });
        return { pooled: await out.pooled.readFloat(), grads };
      };
      // Classification heads read only the pooled vector: the model's forward takes the short path.
      assert.ok(model.decoders.items.every((head) => !head.readsSequence));
      const full = await run(true), short = await run(false);
      assertAllClose(short.pooled, full.pooled, { atol: 1e-6, rtol: 1e-5, label: "pooled" });
      full.grads.forEach((g, i) => {
        if (g === null) return assert.equal(short.grads[i], null);
        assertAllClose(short.grads[i]!, g, { atol: 1e-6, rtol: 1e-5, label: params[i].name });
      });
      model.dispose();
    },
  );
}
