/**
 * camtl's side of the peer benchmark: its own matmul, `BertLayer` and training step, on the
 * adapter `requestGpu()` picks.
 *
 * @module
 */

import { backward } from "../../lib/autograd/backward.ts";
import { zeroGrad } from "../../lib/optim/zero_grad.ts";
import { beginScope, withScope } from "../../lib/autograd/scope.ts";
import { fromArray, type Tensor } from "../../lib/autograd/tensor.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import type { BertConfig } from "../../lib/io/config.ts";
import { uploadBatch } from "../../lib/nn/bert/inputs.ts";
import { BertLayer, plainNorm } from "../../lib/nn/bert/layer.ts";
import { BertModel } from "../../lib/nn/bert/model.ts";
import { Linear } from "../../lib/nn/layers.ts";
import type { Module } from "../../lib/nn/module.ts";
import { SeedStream } from "../../lib/nn/seeds.ts";
import { crossEntropy } from "../../lib/ops/cross_entropy.ts";
import { matmul } from "../../lib/ops/matmul.ts";
import { sum } from "../../lib/ops/reduce.ts";
import { AdamW } from "../../lib/optim/adamw.ts";
import { Rng } from "../../tests/_util/rng.ts";
import { BertForSequenceClassification } from "../../lib/nn/bert/sequence_classification.ts";
import { clipGradNorm } from "../../lib/optim/clip.ts";
import { groupParameters } from "../../lib/optim/params.ts";
import type { Batch } from "../../lib/data/loader.ts";
import type { ClassifierShape } from "./classifier_batches.ts";
import type { Case, Impl, LayerShape, StepShape } from "./timing.ts";

/** A BERT config with the benchmark's sizes and dropout off. */
export function benchConfig(s: LayerShape, layers = 1, vocab = 1000): BertConfig {
  return {
    vocabSize: vocab,
    hiddenSize: s.H,
    numHiddenLayers: layers,
    numAttentionHeads: s.heads,
    intermediateSize: s.ffn,
    hiddenAct: "gelu",
    hiddenDropoutProb: 0,
    attentionProbsDropoutProb: 0,
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    initializerRange: 0.02,
    extra: { model_type: "bert" },
  };
}

/** Deterministic host inputs shared by every implementation: uniform values in [-1, 1). */
export function hostArray(n: number, seed: number): Float32Array<ArrayBuffer> {
  return Float32Array.from(new Rng(seed).array(n));
}

/** The step's host batch: token ids in `[0, vocab)`, no padding, labels in `[0, classes)`. */
export function hostBatch(
  s: StepShape,
): { ids: Int32Array<ArrayBuffer>; labels: Int32Array<ArrayBuffer> } {
  const rng = new Rng(11);
  const ids = Int32Array.from({ length: s.B * s.T }, () => Math.floor(rng.next() * s.vocab));
  const labels = Int32Array.from({ length: s.B }, () => Math.floor(rng.next() * s.classes));
  return { ids, labels };
}

/** AdamW settings every implementation uses (decay on every parameter). */
export const ADAMW = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/**
 * The small classifier's training step as a library user writes it (notebook 02's loop):
 * forward with the loss, backward, clip to norm 1, AdamW with decay groups, zero grad; dropout
 * 0.1 as in a BERT config. One batch per rep, cycling through `batches`; the rep ends when the
 * device has finished.
 */
export function classifierCase(gpu: Gpu, s: ClassifierShape, batches: readonly Batch[]): Case {
  const config = { ...benchConfig(s, s.layers, s.vocab), hiddenDropoutProb: 0.1 };
  config.attentionProbsDropoutProb = 0.1;
  const model = new BertForSequenceClassification(config, { numLabels: s.classes, seed: 1 })
    .materialize(gpu, 1);
  let next = 0;
  return userStepCase(gpu, model, () => batches[next++ % batches.length], { lr: 1e-4 });
}

/** A model a library user trains on collated batches (`BertForSequenceClassification`, `CaMtl`). */
export interface BatchModel extends Module {
  forward(batch: Batch): { loss?: Tensor | null };
}

/**
 * A library user's step on `model` in training mode, one batch of `nextBatch()` per rep:
 * forward with the loss, backward, clip to norm 1, AdamW (`lr`, decay 0.01 except biases and
 * LayerNorm gains), zero grad; the rep ends when the device has finished.
 */
export function userStepCase(
  gpu: Gpu,
  model: BatchModel,
  nextBatch: () => Batch | Promise<Batch>,
  { lr }: { lr: number },
): Case {
  model.train();
  const opt = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr });
  return {
    async run() {
      const batch = await nextBatch();
      backward(model.forward(batch).loss!);
      clipGradNorm(model, 1.0);
      opt.step();
      zeroGrad(model);
      await gpu.sync();
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

/** camtl on `gpu`. */
export function camtlImpl(gpu: Gpu): Impl {
  return {
    name: "camtl",
    matmul(S: number): Promise<Case> {
      const a = fromArray(gpu, hostArray(S * S, S), [S, S], { persistent: true });
      const b = fromArray(gpu, hostArray(S * S, S + 1), [S, S], { persistent: true });
      return Promise.resolve({
        async run() {
          const scope = beginScope(gpu);
          await matmul({ a, b }).read();
          scope.end();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      });
    },
    bertLayer(s: LayerShape): Promise<Case> {
      const layer = new BertLayer(benchConfig(s), new SeedStream(1), { makeNorm: plainNorm })
        .materialize(gpu, 1);
      layer.eval();
      const { B, T, H } = s;
      const h = fromArray(gpu, hostArray(B * T * H, 7), [B, T, H], { persistent: true });
      const mask = fromArray(gpu, new Float32Array(B * T), [B, T], { persistent: true });
      const params = [...layer.parameters()].map((p) => p.value);
      return Promise.resolve({
        async run() {
          await withScope(gpu, async () => {
            backward(sum({ x: layer.forward(h, mask) }));
            await gpu.sync();
          });
          // Fresh gradients each rep, as tfjs's variableGrads and jax-js's grad return them.
          zeroGrad(params, { setToNone: true });
        },
        dispose() {
          layer.dispose();
          h.dispose();
          mask.dispose();
        },
      });
    },
    trainStep(s: StepShape): Promise<Case> {
      const model = new BertModel(benchConfig(s, s.layers, s.vocab), { seed: 1 })
        .materialize(gpu, 1);
      const head = new Linear(s.H, s.classes, { std: 0.02 }).materialize(gpu, 2);
      model.eval();
      const { ids, labels } = hostBatch(s);
      const inputs = uploadBatch(gpu, {
        inputIds: ids,
        tokenTypeIds: new Int32Array(s.B * s.T),
        attentionMask: new Int32Array(s.B * s.T).fill(1),
        batchSize: s.B,
        seqLength: s.T,
      });
      // Created outside any scope, so they live until `dispose`.
      const y = fromArray(gpu, labels, [s.B], { dtype: "i32", persistent: true });
      const params = [...model.parameters(), ...head.parameters()].map((p) => p.value);
      const opt = new AdamW(
        params.map((param) => ({ param, weightDecay: ADAMW.weightDecay })),
        { lr: ADAMW.lr, betas: [ADAMW.beta1, ADAMW.beta2], eps: ADAMW.eps },
      );
      return Promise.resolve({
        async run() {
          await withScope(gpu, async () => {
            zeroGrad(params, { setToNone: true });
            const logits = head.forward(model.forward(inputs).pooled);
            backward(crossEntropy({ logits }, { labels: y }));
            opt.step();
            await gpu.sync();
          });
        },
        dispose() {
          opt.dispose();
          model.dispose();
          head.dispose();
          for (const t of [inputs.inputIds, inputs.tokenTypeIds, inputs.positionIds, y]) {
            t.dispose();
          }
          inputs.maskBias.dispose();
        },
      });
    },
  };
}
