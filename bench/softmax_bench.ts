/**
 * Softmax kernels at BERT-base attention shape (`[B=32, NH=12, T=128, T=128]`) with CA-MTL's
 * conditional bias `[B, T, T]` and the padding mask `[B, T]`, against a plain copy of the same
 * scores (`scale_forward`) as the baseline, in both forms: one workgroup per row (GPUs) and one
 * row per invocation (`…_lanes`, CPU adapters). Each iteration records one dispatch and waits.
 *
 * Run: `deno bench -P bench/softmax_bench.ts`. GB/s = `softmax*Cost().bytes` / time.
 *
 * @module
 */

import { rowWorkgroupSize } from "../kernels/kernel.ts";
import { scaleForward } from "../kernels/elementwise.ts";
import {
  softmaxBackward,
  softmaxBackwardLanes,
  softmaxBiasBackward,
  softmaxForward,
  softmaxForwardLanes,
} from "../kernels/softmax.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const B = 32, NH = 12, T = 128, ROWS = B * NH * T, N = ROWS * T;
const gpu = await requestGpu();
// stderr, so that `deno bench --json` output stays parseable.
console.error(`softmax bench on "${gpu.adapter.description}"`);

const rng = new Rng(2);
const make = (shape: number[]) =>
  fromArray(gpu, rng.array(shape.reduce((p, d) => p * d, 1)), shape);
const x = make([B, NH, T, T]), dout = make([B, NH, T, T]), bias = make([B, T, T]);
const mask = fromArray(gpu, Array.from({ length: B * T }, (_, i) => (i % T) < 100 ? 0 : -10000), [
  B,
  T,
]);
const out = new Tensor(gpu, [B, NH, T, T]), dbias = new Tensor(gpu, [B, T, T]);
const dims = { rows: ROWS, n: T, nh: NH, tq: T };
const WG = rowWorkgroupSize(T);
const shape = `[B=${B},NH=${NH},T=${T}]`;
const opts = { group: "softmax", n: 20, warmup: 3 };

async function run(record: () => void): Promise<void> {
  record();
  await gpu.sync();
}

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  await run(() => dispatch(scaleForward, { a: x, out }, { n: N, s: 1 }));
});
Deno.bench(`softmax_forward${shape} bias+mask`, opts, async () => {
  await run(() =>
    dispatch(softmaxForward, { x, bias, mask, out }, dims, { WG, HAS_BIAS: 1, HAS_MASK: 1 })
  );
});
Deno.bench(`softmax_forward${shape} plain`, opts, async () => {
  await run(() => dispatch(softmaxForward, { x, bias: x, mask: x, out }, dims, { WG }));
});
// One row per invocation (what `Gpu.rowKernels = "lanes"` picks on CPU adapters).
Deno.bench(`softmax_forward_lanes${shape} bias+mask`, opts, async () => {
  await run(() =>
    dispatch(softmaxForwardLanes, { x, bias, mask, out }, dims, { HAS_BIAS: 1, HAS_MASK: 1 })
  );
});
Deno.bench(`softmax_backward_lanes${shape}`, opts, async () => {
  await run(() => dispatch(softmaxBackwardLanes, { y: x, dout, dx: out }, { rows: ROWS, n: T }));
});
Deno.bench(`softmax_backward${shape}`, opts, async () => {
  await run(() => dispatch(softmaxBackward, { y: x, dout, dx: out }, { rows: ROWS, n: T }, { WG }));
});
Deno.bench(`softmax_bias_backward${shape}`, opts, async () => {
  await run(() =>
    dispatch(softmaxBiasBackward, { dx: x, dbias }, { n: B * T * T, nh: NH, per: T * T })
  );
});
