/**
 * Shape copies at BERT-base shapes: the head split and merge of `[B=32, T=128, C=768]` (12
 * heads of 64), the [CLS] slice `[B, 1, C]` and a concat along T, against a plain copy of the
 * `[B, T, C]` tensor (`scale_forward`). The split and merge run both the one-word kernel (the
 * first version) and the vec4 one that the ops use when the head size is a multiple of 4.
 *
 * Run: `deno bench -P bench/heads_bench.ts`. GB/s = `copyCost({ n }).bytes` / time (n = words
 * written).
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { swapMiddle, swapMiddleVec4 } from "../kernels/heads.ts";
import { concatForwardVec4, sliceForwardVec4 } from "../kernels/slice.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const B = 32, T = 128, C = 768, NH = 12, HS = 64, N = B * T * C;
const gpu = await requestGpu();
console.log(`heads bench on "${gpu.adapter.description}"`);

const x = fromArray(gpu, new Rng(6).array(N), [B, T, C]);
const half = fromArray(gpu, new Rng(7).array(N / 2), [B, T / 2, C]);
const out = new Tensor(gpu, [B, T, C]), cls = new Tensor(gpu, [B, 1, C]);
const opts = { group: "heads", n: 20, warmup: 3 };
const shape = `[B=${B},T=${T},C=${C}]`;

async function run(record: () => void): Promise<void> {
  record();
  await gpu.sync();
}

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  await run(() => dispatch(scaleForward, { a: x, out }, { n: N, s: 1 }));
});
Deno.bench(`swap_middle split${shape} NH=${NH}`, opts, async () => {
  await run(() => dispatch(swapMiddle, { inp: x, out }, { n: N, x: T, y: NH, d: HS }));
});
Deno.bench(`swap_middle merge${shape} NH=${NH}`, opts, async () => {
  await run(() => dispatch(swapMiddle, { inp: x, out }, { n: N, x: NH, y: T, d: HS }));
});
Deno.bench(`swap_middle_vec4 split${shape} NH=${NH}`, opts, async () => {
  await run(() => dispatch(swapMiddleVec4, { inp: x, out }, { n: N / 4, x: T, y: NH, d: HS / 4 }));
});
Deno.bench(`swap_middle_vec4 merge${shape} NH=${NH}`, opts, async () => {
  await run(() => dispatch(swapMiddleVec4, { inp: x, out }, { n: N / 4, x: NH, y: T, d: HS / 4 }));
});
Deno.bench(`slice_forward_vec4 [CLS]${shape}`, opts, async () => {
  await run(() =>
    dispatch(sliceForwardVec4, { inp: x, out: cls }, {
      n: B * C / 4,
      len: T,
      count: 1,
      start: 0,
      inner: C / 4,
    })
  );
});
Deno.bench(`concat_forward_vec4 2×[B,T/2,C]`, opts, async () => {
  await run(() =>
    dispatch(concatForwardVec4, { a: half, b: half, out }, {
      n: N / 4,
      la: T / 2,
      lb: T / 2,
      inner: C / 4,
    })
  );
});
