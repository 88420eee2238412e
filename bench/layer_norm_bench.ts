/**
 * Layer norm kernels at BERT-base shape (rows R = B·T = 32·128, C = 768), against a plain copy
 * of the same `[R, C]` tensor (`scale_forward`, the memory-bound floor of one read and one
 * write) as the baseline, with the row kernels in both forms: one workgroup per row (GPUs) and
 * one row per invocation (`…_lanes`, CPU adapters). Each iteration records one dispatch and
 * waits for the GPU.
 *
 * Run: `deno bench -P bench/layer_norm_bench.ts`. GB/s = `layerNorm*Cost().bytes` / time.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import {
  layerNormBackward,
  layerNormBackwardLanes,
  layerNormForward,
  layerNormForwardLanes,
  layerNormParamBackward,
  rowWorkgroupSize,
} from "../kernels/layer_norm.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { Rng } from "../tests/_util/rng.ts";

const B = 32, T = 128, C = 768, R = B * T;
const gpu = await requestGpu();
// stderr, so that `deno bench --json` output stays parseable.
console.error(`layer_norm bench on "${gpu.adapter.description}"`);

const rng = new Rng(1);
const make = (shape: number[]) =>
  fromArray(gpu, rng.array(shape.reduce((p, d) => p * d, 1)), shape);
const x = make([R, C]), dout = make([R, C]), gain = make([C]), gainB = make([B, C]);
const bias = make([C]);
const out = new Tensor(gpu, [R, C]), mean = new Tensor(gpu, [R]), rstd = new Tensor(gpu, [R]);
const GROUPS = R / 32;
const parts = [new Tensor(gpu, [GROUPS, C]), new Tensor(gpu, [GROUPS, C])];
const WG = rowWorkgroupSize(C);
const shape = `[R=${R},C=${C}]`;
const opts = { group: "layer_norm", n: 30, warmup: 3 };

async function run(record: () => void): Promise<void> {
  record();
  await gpu.sync();
}

Deno.bench(`scale_forward${shape}`, { ...opts, baseline: true }, async () => {
  await run(() => dispatch(scaleForward, { a: x, out }, { n: R * C, s: 1 }));
});
Deno.bench(`layer_norm_forward${shape}`, opts, async () => {
  await run(() =>
    dispatch(layerNormForward, { x, gain, bias, out, mean, rstd }, {
      rows: R,
      c: C,
      t: R,
      eps: 1e-12,
    }, {
      WG,
    })
  );
});
Deno.bench(`layer_norm_forward${shape} per-example gain [B=${B},C]`, opts, async () => {
  await run(() =>
    dispatch(layerNormForward, { x, gain: gainB, bias, out, mean, rstd }, {
      rows: R,
      c: C,
      t: T,
      eps: 1e-12,
    }, { WG })
  );
});
Deno.bench(`layer_norm_backward${shape}`, opts, async () => {
  await run(() =>
    dispatch(layerNormBackward, { x, gain, mean, rstd, dout, dx: out }, { rows: R, c: C, t: R }, {
      WG,
    })
  );
});
// One row per invocation (what `Gpu.rowKernels = "lanes"` picks on CPU adapters).
Deno.bench(`layer_norm_forward_lanes${shape}`, opts, async () => {
  await run(() =>
    dispatch(layerNormForwardLanes, { x, gain, bias, out, mean, rstd }, {
      rows: R,
      c: C,
      t: R,
      eps: 1e-12,
    })
  );
});
Deno.bench(`layer_norm_backward_lanes${shape}`, opts, async () => {
  await run(() =>
    dispatch(layerNormBackwardLanes, { x, gain, mean, rstd, dout, dx: out }, {
      rows: R,
      c: C,
      t: R,
    })
  );
});
Deno.bench(`layer_norm_param_backward${shape} groups=${GROUPS}`, opts, async () => {
  await run(() =>
    dispatch(layerNormParamBackward, { x, mean, rstd, dout, dgain: parts[0], dbias: parts[1] }, {
      rows: R,
      c: C,
      per_group: 32,
      groups: GROUPS,
    })
  );
});
