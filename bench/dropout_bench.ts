/**
 * Dropout at BERT-base shapes: hidden states `[B=32, T=128, C=768]` and attention
 * probabilities `[B=32, NH=12, T=128, T=128]`, each against a plain copy of the same tensor
 * (`scale_forward`), so the ratio is the cost of hashing the mask in-kernel. Each iteration
 * records one dispatch and waits for the GPU.
 *
 * Run: `deno bench -P bench/dropout_bench.ts`. GB/s = `dropoutCost().bytes` / time.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { dropoutForward, dropoutUniforms } from "../kernels/dropout.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const gpu = await requestGpu();
// stderr, so that `deno bench --json` output stays parseable.
console.error(`dropout bench on "${gpu.adapter.description}"`);
const rng = new Rng(4);

for (const shape of [[32, 128, 768], [32, 12, 128, 128]]) {
  const n = shape.reduce((p, d) => p * d, 1);
  const x = fromArray(gpu, rng.array(n), shape), out = new Tensor(gpu, shape);
  const group = `dropout[${shape.join(",")}]`;
  const opts = { group, n: 20, warmup: 2 };
  const params = { n, seed: 1234, offset: 0, ...dropoutUniforms(0.1) };
  Deno.bench(`scale_forward[${shape}]`, { ...opts, baseline: true }, async () => {
    dispatch(scaleForward, { a: x, out }, { n, s: 1 });
    await gpu.sync();
  });
  Deno.bench(`dropout_forward[${shape}] p=0.1`, opts, async () => {
    dispatch(dropoutForward, { inp: x, out }, params);
    await gpu.sync();
  });
}
