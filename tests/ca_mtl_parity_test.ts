/**
 * CA-MTL against a PyTorch reference written from the equations of docs/model.md §2 to §8
 * (tests/fixtures/make_fixtures.py, `make_ca_mtl` and `make_ca_mtl_heads`): a tiny base stack
 * (H = 32, 4 layers, L = 16, so 2 attention blocks of 8) with every parameter randomised, and a
 * mixed batch with padding, of three tasks (2 classes, 3 classes, regression) in one fixture and
 * of the heads of §8.4 to §8.7 (token tags, answer spans, two-way choices, marked spans) in the
 * other. Logits and entropies must match within 1e-4, every gradient (A, the FiLM generators,
 * the task embeddings, the heads…) within 1e-3.
 */
import assert from "node:assert/strict";
import { backward } from "../lib/autograd/backward.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { type HostTensor, toFloat32 } from "../lib/io/host_tensor.ts";
import type { BertConfig } from "../lib/io/config.ts";
import { type HostBatch, uploadBatch } from "../lib/nn/bert/inputs.ts";
import { CaMtl, type CaMtlOutput, type TaskRows, taskRowsOf } from "../lib/nn/ca_mtl/model.ts";
import { loadModelWeights } from "../lib/nn/state_dict.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import type { TaskSpec } from "../lib/nn/ca_mtl/config.ts";
import { gpuTest } from "./_util/gpu.ts";
import { relMaxError } from "./_util/allclose.ts";

const DIR = new URL("./fixtures/ca_mtl/", import.meta.url).pathname;
const HEADS_DIR = new URL("./fixtures/ca_mtl_heads/", import.meta.url).pathname;

function ints(t: HostTensor): Int32Array {
  return new Int32Array(t.data.slice().buffer);
}

async function setup(gpu: Gpu, dir = DIR) {
  const { config: c, tasks } = JSON.parse(await Deno.readTextFile(`${dir}config.json`));
  const bert: BertConfig = {
    vocabSize: c.vocab,
    hiddenSize: c.hidden,
    numHiddenLayers: c.layers,
    numAttentionHeads: c.heads,
    intermediateSize: c.inter,
    hiddenAct: "gelu",
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
    maxPositionEmbeddings: c.positions,
    typeVocabSize: 2,
    layerNormEps: c.eps,
    initializerRange: 0.02,
    extra: {},
  };
  const model = new CaMtl({
    architecture: "CA-MTL-base",
    bert,
    // ca_mtl lists [name, numLabels]; ca_mtl_heads lists TaskSpecs.
    tasks: tasks.map((t: [string, number] | TaskSpec) =>
      Array.isArray(t) ? { name: t[0], numLabels: t[1] } : t
    ),
    maxSeqLength: c.L,
  }).materialize(gpu);
  const weights = (await readSafetensors(`${dir}model.safetensors`)).stateDict;
  loadModelWeights(model, weights); // strict: every key, no extras
  model.eval();
  const ref = (await readSafetensors(`${dir}reference.safetensors`)).stateDict;
  return { model, ref, L: c.L as number };
}

function hostBatch(ref: Map<string, HostTensor>): HostBatch {
  const [B, S] = ref.get("input_ids")!.shape;
  return {
    inputIds: ints(ref.get("input_ids")!),
    tokenTypeIds: ints(ref.get("token_type_ids")!),
    attentionMask: ints(ref.get("attention_mask")!),
    batchSize: B,
    seqLength: S,
  };
}

function padTo(b: HostBatch, S: number): HostBatch {
  const grow = (a: Int32Array) => {
    const out = new Int32Array(b.batchSize * S);
    for (let i = 0; i < b.batchSize; i++) {
      out.set(a.subarray(i * b.seqLength, (i + 1) * b.seqLength), i * S);
    }
    return out;
  };
  return {
    inputIds: grow(b.inputIds),
    tokenTypeIds: grow(b.tokenTypeIds),
    attentionMask: grow(b.attentionMask),
    batchSize: b.batchSize,
    seqLength: S,
  };
}

/**
 * Checks the loss, then every parameter's gradient, against the reference, and that the
 * gradients of `keys` were among those compared (not all but zero).
 */
async function expectLossAndGradients(
  model: CaMtl,
  out: CaMtlOutput,
  ref: Map<string, HostTensor>,
  keys: string[],
): Promise<void> {
  const loss = (await out.loss!.readFloat())[0], lossRef = toFloat32(ref.get("loss")!)[0];
  assert.ok(Math.abs(loss - lossRef) <= 1e-4 * Math.abs(lossRef), `loss ${loss} vs ${lossRef}`);
  backward(out.loss!);
  const checked = new Set<string>();
  for (const [name, p] of model.namedParameters()) {
    const want = ref.get(`grad.${name}`);
    assert.ok(want, `the reference has a gradient for ${name}`);
    const got = await p.value.grad!.readFloat();
    const scale = toFloat32(want).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (scale < 1e-6) {
      // Softmax ignores a key bias (the same q·b on every logit of a row): true gradient 0.
      assert.ok(got.every((v) => Math.abs(v) < 1e-5), `${name} should have no gradient`);
      continue;
    }
    const err = relMaxError(got, toFloat32(want));
    assert.ok(err < 1e-3, `gradient of ${name}: rel error ${err}`);
    checked.add(name);
  }
  for (const k of keys) assert.ok(checked.has(k), `the gradient of ${k} was compared`);
}

function withLabels(taskIds: Int32Array, labels: Float32Array, numLabels: number[]) {
  return taskRowsOf(taskIds).map((t) => ({
    ...t,
    labels: numLabels[t.taskId] === 1
      ? Float32Array.from(t.rows, (i) => labels[i])
      : Int32Array.from(t.rows, (i) => labels[i]),
  }));
}

gpuTest(
  "CA-MTL logits, entropies, loss and every gradient match the PyTorch reference",
  async (gpu) => {
    const { model, ref } = await setup(gpu);
    const taskIds = ints(ref.get("task_ids")!);
    const labels = toFloat32(ref.get("labels")!);
    const out = model.forward({
      inputs: uploadBatch(gpu, hostBatch(ref)),
      taskIds,
      tasks: withLabels(taskIds, labels, model.config.tasks.map((t) => t.numLabels)),
    }, { entropy: true });
    const logits: number[] = [], entropy: number[] = [];
    for (const t of [...out.logits.keys()].sort()) {
      logits.push(...await out.logits.get(t)!.readFloat());
      entropy.push(...await out.entropy.get(t)!.readFloat());
    }
    const logitErr = relMaxError(logits, toFloat32(ref.get("logits")!));
    const entErr = relMaxError(entropy, toFloat32(ref.get("entropy")!));
    assert.ok(logitErr < 1e-4, `logits rel error ${logitErr}`);
    assert.ok(entErr < 1e-4, `entropy rel error ${entErr}`);
    await expectLossAndGradients(model, out, ref, [
      "bert.encoder.layer.0.attention.self.random_weight_matrix",
      "bert.encoder.layer.2.attention.output.LayerNorm.ln_weight_modulation.gb_weights.weight",
      "bert.conditional_alignment.gb_weights.weight",
      "bert.task_type_embeddings.weight",
      "bert.encoder.layer.3.adapter.bottleneck.hidden_modulation.gb_weights.weight",
    ]);
    model.dispose();
  },
);

gpuTest("dynamic padding gives the same logits as padding to max_seq_length", async (gpu) => {
  const { model, ref, L } = await setup(gpu);
  const taskIds = ints(ref.get("task_ids")!);
  const short = hostBatch(ref);
  const run = async (b: HostBatch) => {
    const out = model.forward({ inputs: uploadBatch(gpu, b), taskIds });
    const all: number[] = [];
    for (const t of [...out.logits.keys()].sort()) {
      all.push(...await out.logits.get(t)!.readFloat());
    }
    return all;
  };
  const a = await run(short), b = await run(padTo(short, L));
  assert.ok(short.seqLength < L);
  const err = relMaxError(a, b);
  assert.ok(err < 1e-5, `logits differ by ${err} between S=${short.seqLength} and S=${L}`);
  model.dispose();
});

gpuTest(
  "token, span, multiple-choice and marked-span heads match the PyTorch reference",
  async (gpu) => {
    const { model, ref } = await setup(gpu, HEADS_DIR);
    const taskIds = ints(ref.get("task_ids")!);
    const get = (k: string) => ints(ref.get(k)!);
    const targets: Omit<TaskRows, "taskId" | "rows">[] = [
      { labels: null, tokenLabels: get("token_labels") },
      { labels: null, startPositions: get("start_positions"), endPositions: get("end_positions") },
      { labels: get("choice_labels"), choices: 2 },
      { labels: get("pair_labels"), spanCount: 2, spans: get("spans") },
    ];
    const out = model.forward({
      inputs: uploadBatch(gpu, hostBatch(ref)),
      taskIds,
      tasks: taskRowsOf(taskIds).map((s) => ({ ...s, ...targets[s.taskId] })),
    });
    for (const t of [0, 1, 2, 3]) {
      const want = ref.get(`logits.${t}`)!;
      assert.deepEqual(out.logits.get(t)!.shape, want.shape, `logits of task ${t}`);
      const err = relMaxError(await out.logits.get(t)!.readFloat(), toFloat32(want));
      assert.ok(err < 1e-4, `logits of task ${t}: rel error ${err}`);
    }
    await expectLossAndGradients(model, out, ref, [
      "decoders.0.classifier.weight",
      "decoders.1.qa_outputs.weight",
      "decoders.2.classifier.weight",
      "decoders.3.model.weight",
      "bert.task_type_embeddings.weight",
      "bert.encoder.layer.3.adapter.bottleneck.hidden_modulation.gb_weights.weight",
    ]);
    model.dispose();
  },
);
