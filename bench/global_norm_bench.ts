/**
 * The global gradient norm and clipping over the 16 gradient tensors of one BERT-base layer
 * (q, k, v, output weights 768×768 and biases, two LayerNorms, the 768×3072 and 3072×768
 * feed-forward weights and biases: 7.09M values), against a plain copy of the same number of
 * values (`scale_forward`). `globalNorm` reads every value once (4 B); clipping reads the norm
 * on the GPU and rewrites every gradient (8 B more).
 *
 * Run: `deno bench -P bench/global_norm_bench.ts`. GB/s = `globalNormCost()` /
 * `gradClipCost()` bytes / time.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { beginScope } from "../lib/autograd/scope.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { globalNorm } from "../lib/ops/global_norm.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { Rng } from "../tests/_util/rng.ts";

const C = 768, I = 3072;
const SHAPES = [
  ...[0, 1, 2, 3].flatMap(() => [[C, C], [C]]),
  [C],
  [C],
  [I, C],
  [I],
  [C, I],
  [C],
  [C],
  [C],
];
const gpu = await requestGpu();
console.log(`global_norm bench on "${gpu.adapter.description}"`);

const rng = new Rng(4);
const params = SHAPES.map((s) => {
  const n = s.reduce((p, d) => p * d, 1);
  const p = new Tensor(gpu, s);
  p.grad = fromArray(gpu, rng.array(n, -1e-3, 1e-3), s);
  return p;
});
const grads = params.map((p) => p.grad!);
const total = grads.reduce((n, g) => n + g.size, 0);
const flat = fromArray(gpu, rng.array(total), [total]), out = new Tensor(gpu, [total]);
const opts = { group: "global_norm", n: 20, warmup: 3 };
const label = `[${SHAPES.length} tensors,n=${total}]`;

async function scoped(record: () => void): Promise<void> {
  const scope = beginScope(gpu);
  record();
  await gpu.sync();
  scope.end();
}

Deno.bench(`scale_forward[n=${total}]`, { ...opts, baseline: true }, async () => {
  await scoped(() => dispatch(scaleForward, { a: flat, out }, { n: total, s: 1 }));
});
Deno.bench(`global_norm${label}`, opts, async () => {
  await scoped(() => globalNorm(grads));
});
Deno.bench(`global_norm + grad_clip_scale${label}`, opts, async () => {
  // maxNorm far above the norm: the coefficient is 1, so the gradients stay the same. Large
  // gradients owe their scaling until used (AdamW applies it as it reads them); binding each one
  // dispatches it, so every iteration scales as clip_grad_norm_ does.
  await scoped(() => {
    clipGradNorm(params, 1e9);
    for (const g of grads) g.ref;
  });
});
