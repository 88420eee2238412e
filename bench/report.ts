/**
 * `deno task bench:report`: a roofline-style table of camtl's main kernels at BERT-base
 * shapes (C = 768, I = 3072, 12 heads, T = 128; B = 8 by default because lavapipe needs seconds
 * per B = 32 step, `--batch 32` for the full size). For each kernel: the median wall time over
 * several runs (each ends with a GPU sync), the median device time from timestamp queries where
 * the adapter has them, and the achieved GFLOP/s and GB/s from the kernel's `…Cost()` over the
 * device time, next to the adapter's name. Use it to compare kernels on one adapter; compare
 * numbers only within one run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Rng } from "../tests/_util/rng.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { matmulCost } from "../kernels/matmul.ts";
import { layerNormForwardCost } from "../kernels/layer_norm.ts";
import { softmaxForwardCost } from "../kernels/softmax.ts";
import { geluForwardCost } from "../kernels/gelu.ts";
import { dropoutCost } from "../kernels/dropout.ts";
import { adamwCost } from "../kernels/adamw.ts";
import { gatherRowsCost } from "../kernels/embedding.ts";
import { filmCost } from "../kernels/film.ts";
import { elementwiseCost } from "../kernels/elementwise.ts";
import type { KernelCost } from "../kernels/kernel.ts";
import { linear } from "../lib/ops/linear.ts";
import { matmul } from "../lib/ops/matmul.ts";
import { layerNorm } from "../lib/ops/layer_norm.ts";
import { softmax } from "../lib/ops/softmax.ts";
import { gelu } from "../lib/ops/gelu.ts";
import { dropout } from "../lib/ops/dropout.ts";
import { embedding } from "../lib/ops/embedding.ts";
import { film } from "../lib/ops/film.ts";
import { add } from "../lib/ops/elementwise.ts";
import { AdamW } from "../lib/optim/adamw.ts";

const { values } = parseArgs({
  options: { batch: { type: "string", default: "8" }, reps: { type: "string", default: "7" } },
});
const B = Number(values.batch), T = 128, C = 768, I = 3072, NH = 12, HS = 64, R = B * T;
const reps = Number(values.reps);
const gpu = await requestGpu();

const rng = new Rng(1);
function rand(shape: number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return fromArray(gpu, rng.array(n, -0.1, 0.1), shape, { persistent: true });
}

interface Case {
  name: string;
  cost: KernelCost;
  run: () => void;
}

const x = rand([R, C]), h = rand([R, I]), w1 = rand([I, C]), b1 = rand([I]), w = rand([C, C]);
const w2 = rand([C, I]);
const q = rand([B, NH, T, HS]), k = rand([B, NH, T, HS]), scores = rand([B, NH, T, T]);
const bias = rand([B, T, T]),
  mask = fromArray(gpu, new Float32Array(B * T), [B, T], { persistent: true });
const gain = rand([C]), beta = rand([C]), gb = rand([B, 2 * C]), xb = rand([B, T, C]);
const table = rand([28996, C]);
const ids = fromArray(gpu, Int32Array.from({ length: R }, (_, i) => (i * 7919) % 28996), [R], {
  dtype: "i32",
  persistent: true,
});
const p = rand([I, C]);
p.grad = rand([I, C]);
const opt = new AdamW([{ param: p, weightDecay: 0.01 }], { lr: 1e-4 });

const cases: Case[] = [
  {
    name: `linear ${R}x${C}→${I} (+bias)`,
    cost: matmulCost({ m: R, n: I, k: C }),
    run: () => linear({ x, weight: w1, bias: b1 }),
  },
  {
    name: `linear ${R}x${I}→${C}`,
    cost: matmulCost({ m: R, n: C, k: I }),
    run: () => linear({ x: h, weight: w2 }),
  },
  {
    name: `linear ${R}x${C}→${C}`,
    cost: matmulCost({ m: R, n: C, k: C }),
    run: () => linear({ x, weight: w }),
  },
  {
    name: `matmul q·kᵀ [${B},${NH},${T},${HS}]`,
    cost: matmulCost({ m: T, n: T, k: HS, batch: B * NH }),
    run: () => matmul({ a: q, b: k }, { transB: true, alpha: 0.125 }),
  },
  {
    name: `matmul probs·v [${B},${NH},${T},${T}]`,
    cost: matmulCost({ m: T, n: HS, k: T, batch: B * NH }),
    run: () => matmul({ a: scores, b: k }),
  },
  {
    name: `softmax+bias+mask [${B},${NH},${T},${T}]`,
    cost: softmaxForwardCost({ rows: B * NH * T, n: T, biasRows: B * T, maskRows: B }),
    run: () => softmax({ x: scores, bias }, { mask }),
  },
  {
    name: `layer_norm [${R},${C}]`,
    cost: layerNormForwardCost({ rows: R, c: C }),
    run: () => layerNorm({ x, gain, bias: beta }, { eps: 1e-12 }),
  },
  { name: `gelu [${R},${I}]`, cost: geluForwardCost({ n: R * I }), run: () => gelu({ x: h }) },
  {
    name: `dropout [${R},${C}]`,
    cost: dropoutCost({ n: R * C }),
    run: () => dropout({ x }, { p: 0.1, seed: 3 }),
  },
  {
    name: `add [${R},${C}]`,
    cost: elementwiseCost({ n: R * C, reads: 2 }),
    run: () => add({ a: x, b: x }),
  },
  {
    name: `film [${B},${T},${C}]`,
    cost: filmCost({ B, R: T, D: C, shared: false }),
    run: () => film({ x: xb, gb }),
  },
  {
    name: `embedding [28996,${C}] × ${R} ids`,
    cost: gatherRowsCost({ m: R, d: C }),
    run: () => embedding({ weight: table }, { ids }),
  },
  { name: `adamw_update [${I},${C}]`, cost: adamwCost({ n: I * C }), run: () => opt.step() },
];

/**
 * Median wall time of a case (recording, one submit and the wait for the device, whose fixed
 * latency is about 11 ms in Deno) and, with timestamp queries, the median device time of its
 * dispatches: the time the kernels themselves take, which the GFLOP/s and GB/s are computed from.
 */
async function time(c: Case): Promise<{ wall: number; device: number | null }> {
  const walls: number[] = [], devices: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const profile = gpu.hasTimestamps && i >= 2;
    if (profile) gpu.recorder.startProfile();
    const t0 = performance.now();
    await withScope(gpu, async () => {
      c.run();
      await gpu.sync();
    });
    const wall = performance.now() - t0;
    if (profile) devices.push((await gpu.recorder.stopProfile()).reduce((t, d) => t + d.ms, 0));
    if (i >= 2) walls.push(wall);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { wall: median(walls), device: devices.length ? median(devices) : null };
}

console.log(
  `camtl kernel report on "${gpu.adapter.description}"${
    gpu.adapter.isFallbackAdapter ? " (fallback adapter)" : ""
  }, B=${B}, median of ${reps}; rates from ${gpu.hasTimestamps ? "device" : "wall"} time`,
);
console.log(
  `${"kernel".padEnd(40)} ${"wall ms".padStart(9)} ${"device ms".padStart(9)} ${
    "GFLOP/s".padStart(9)
  } ${"GB/s".padStart(8)}`,
);
for (const c of cases) {
  const { wall, device } = await time(c);
  const ms = device ?? wall;
  const gflops = c.cost.flops / ms / 1e6, gbs = c.cost.bytes / ms / 1e6;
  console.log(
    `${c.name.padEnd(40)} ${wall.toFixed(2).padStart(9)} ${
      (device === null ? "—" : device.toFixed(2)).padStart(9)
    } ${gflops.toFixed(2).padStart(9)} ${gbs.toFixed(2).padStart(8)}`,
  );
}
gpu.destroy();
