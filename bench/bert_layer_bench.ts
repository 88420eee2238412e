/**
 * One BERT-base-shaped encoder layer (C = 768, I = 3072, 12 heads), forward and backward, at
 * B = 8, T = 128, on the adapter camtl finds. Baseline: the forward alone.
 *
 * Run: `deno bench -P bench/bert_layer_bench.ts`.
 *
 * @module
 */

import { backward } from "../lib/autograd/backward.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { BERT_BASE_CASED } from "../lib/nn/ca_mtl/config.ts";
import { BertLayer, plainNorm } from "../lib/nn/bert/layer.ts";
import { SeedStream } from "../lib/nn/seeds.ts";
import { sum } from "../lib/ops/reduce.ts";

const B = 8, T = 128, C = BERT_BASE_CASED.hiddenSize;
const gpu = await requestGpu();
console.error(`bert_layer bench on "${gpu.adapter.description}"`);
const layer = new BertLayer(BERT_BASE_CASED, new SeedStream(1), { makeNorm: plainNorm })
  .materialize(gpu, 1);
const h = fromArray(gpu, new Float32Array(B * T * C).map((_, i) => Math.sin(i) * 0.5), [B, T, C], {
  persistent: true,
});
h.requiresGrad = true;
const mask = fromArray(gpu, new Float32Array(B * T), [B, T], { persistent: true });
const opts = { group: "bert_layer", n: 5, warmup: 1 };

Deno.bench(`bert_layer_forward[B=${B},T=${T},C=${C}]`, { ...opts, baseline: true }, async () => {
  await withScope(gpu, async () => {
    layer.forward(h, mask);
    await gpu.sync();
  });
});

Deno.bench(`bert_layer_forward_backward[B=${B},T=${T},C=${C}]`, opts, async () => {
  await withScope(gpu, async () => {
    backward(sum({ x: layer.forward(h, mask) }));
    await gpu.sync();
  });
});
