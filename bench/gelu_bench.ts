/**
 * Activation kernels at BERT-base feed-forward shape (`[B·T = 32·128, I = 3072]`), against a
 * plain copy of the same tensor (`scale_forward`) as the baseline; `tanh_forward` runs on the
 * same tensor for comparison. Each iteration records one dispatch and waits for the GPU.
 *
 * Run: `deno bench -P bench/gelu_bench.ts`. GB/s = `geluForwardCost().bytes` / time, etc.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { GELU, GELU_VEC4 } from "../kernels/gelu.ts";
import { tanhForward } from "../kernels/tanh.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const R = 32 * 128, I = 3072, N = R * I;
const gpu = await requestGpu();
// stderr, so that `deno bench --json` output stays parseable.
console.error(`gelu bench on "${gpu.adapter.description}"`);

const rng = new Rng(3);
const x = fromArray(gpu, rng.array(N, -4, 4), [R, I]), dout = fromArray(gpu, rng.array(N), [R, I]);
const out = new Tensor(gpu, [R, I]);
const shape = `[R=${R},I=${I}]`;
const opts = { group: "gelu", n: 15, warmup: 2 };

async function run(record: () => void): Promise<void> {
  record();
  await gpu.sync();
}

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  await run(() => dispatch(scaleForward, { a: x, out }, { n: N, s: 1 }));
});
for (const k of [GELU, GELU_VEC4]) {
  const n = N / k.width;
  Deno.bench(`${k.forward.name}${shape}`, opts, async () => {
    await run(() => dispatch(k.forward, { inp: x, out }, { n }));
  });
  Deno.bench(`${k.backward.name}${shape}`, opts, async () => {
    await run(() => dispatch(k.backward, { inp: x, dout, dinp: out }, { n }));
  });
}
Deno.bench(`tanh_forward${shape}`, opts, async () => {
  await run(() => dispatch(tanhForward, { inp: x, out }, { n: N }));
});
