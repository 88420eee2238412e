/**
 * The fused AdamW update on one BERT-base feed-forward weight (`[768, 3072]`, 2.36M values),
 * against a plain copy of it (`scale_forward`). The update reads p, g, m, v and writes p, m, v
 * (28 bytes per value); BERT-base's 110M parameters take about 46.6× this time per step.
 *
 * Run: `deno bench -P bench/adamw_bench.ts`. GB/s = `adamwCost({ n }).bytes` / time.
 *
 * @module
 */

import { adamwParams, adamwUpdate } from "../kernels/adamw.ts";
import { scaleForward } from "../kernels/elementwise.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const ROWS = 768, COLS = 3072, N = ROWS * COLS;
const gpu = await requestGpu();
console.log(`adamw bench on "${gpu.adapter.description}"`);

const rng = new Rng(9);
const make = () => fromArray(gpu, rng.array(N, -0.05, 0.05), [ROWS, COLS]);
const param = make(), grad = make(), m = make(), v = make();
v.write(new Float32Array(N).fill(1e-4));
const out = new Tensor(gpu, [ROWS, COLS]);
const uniforms = adamwParams(N, {
  lr: 2e-5,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  step: 10,
});
const shape = `[${ROWS},${COLS}]`;
const opts = { group: "adamw", n: 20, warmup: 3 };

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  dispatch(scaleForward, { a: grad, out }, { n: N, s: 1 });
  await gpu.sync();
});
Deno.bench(`adamw_update${shape}`, opts, async () => {
  dispatch(adamwUpdate, { param, grad, m, v, norm: grad }, uniforms);
  await gpu.sync();
});
