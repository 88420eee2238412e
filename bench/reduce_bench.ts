/**
 * Sum reductions at BERT-base activation shape `[B·T = 4096, C = 768]`: over all elements
 * (two passes), over the rows (axis 0: the bias-gradient pattern, one invocation per column)
 * and over the channels (axis 1: one workgroup per row), against a plain copy of the tensor
 * (`scale_forward`).
 *
 * Run: `deno bench -P bench/reduce_bench.ts`. GB/s = `sumCost()` bytes / time.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { beginScope } from "../lib/autograd/scope.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { sum } from "../lib/ops/reduce.ts";
import { Rng } from "../tests/_util/rng.ts";

const R = 4096, C = 768;
const gpu = await requestGpu();
console.log(`reduce bench on "${gpu.adapter.description}"`);

const x = fromArray(gpu, new Rng(2).array(R * C), [R, C]), out = new Tensor(gpu, [R, C]);
const opts = { group: "reduce", n: 20, warmup: 3 };
const shape = `[R=${R},C=${C}]`;

async function scoped(record: () => void): Promise<void> {
  const scope = beginScope(gpu);
  record();
  await gpu.sync();
  scope.end();
}

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  await scoped(() => dispatch(scaleForward, { a: x, out }, { n: R * C, s: 1 }));
});
Deno.bench(`sum_partial + sum_final${shape}`, opts, async () => {
  await scoped(() => sum({ x }));
});
Deno.bench(`sum_axis_cols axis=0${shape}`, opts, async () => {
  await scoped(() => sum({ x }, { axis: 0 }));
});
Deno.bench(`sum_axis_rows axis=1${shape}`, opts, async () => {
  await scoped(() => sum({ x }, { axis: 1 }));
});
