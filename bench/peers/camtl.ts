/**
 * camtl's side of the peer benchmark: its own matmul, `BertLayer` and training step, on the
 * adapter `requestGpu()` picks.
 *
 * @module
 */

import { backward } from "../../lib/autograd/backward.ts";
import { beginScope, withScope } from "../../lib/autograd/scope.ts";
import { fromArray } from "../../lib/autograd/tensor.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import type { BertConfig } from "../../lib/io/config.ts";
import { BertLayer, plainNorm } from "../../lib/nn/bert/layer.ts";
import { SeedStream } from "../../lib/nn/seeds.ts";
import { matmul } from "../../lib/ops/matmul.ts";
import { sum } from "../../lib/ops/reduce.ts";
import { Rng } from "../../tests/_util/rng.ts";
import type { Case, Impl, LayerShape } from "./_timing.ts";

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
      return Promise.resolve({
        async run() {
          await withScope(gpu, async () => {
            backward(sum({ x: layer.forward(h, mask) }));
            await gpu.sync();
          });
        },
        dispose() {
          layer.dispose();
          h.dispose();
          mask.dispose();
        },
      });
    },
  };
}
