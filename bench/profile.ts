/**
 * `deno task bench:profile`: where the device time of one workload goes, kernel by kernel, from
 * the profiler's timestamp queries (`Recorder.startProfile`), as `torch.profiler`'s kernel table
 * would show it. The workloads are the peer benchmark's (`bench/peers/camtl.ts`): one BERT
 * encoder layer forward and backward, or a whole training step.
 *
 * ```sh
 * deno task bench:profile                      # layer, B=8 T=128 H=256 NH=4 FFN=1024
 * deno task bench:profile --case step          # 4-layer training step with AdamW
 * deno task bench:profile --case classifier    # small BERT classifier on SST-2 batches
 * deno task bench:profile --case ca_mtl        # the demo's CA-MTL-tiny MT-Uncertainty step
 * deno task bench:profile --by-grid            # keep launches of different sizes apart
 * deno task bench:profile --row-kernels workgroup   # softmax/layer norm as on a GPU
 * ```
 *
 * Each dispatch runs in a compute pass of its own while profiling, so the wall time printed
 * next to the table (measured first, unprofiled) is the one to compare across runs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requestGpu } from "../lib/gpu/device.ts";
import type { RowKernels } from "../lib/gpu/kernel_choice.ts";
import { byGrid, formatSummary, summarizeTimings } from "../lib/gpu/profiler.ts";
import { statsSince } from "../lib/gpu/recorder.ts";
import { camtlImpl, classifierCase } from "./peers/camtl.ts";
import { caMtlTinyCase, demoTrainData } from "./peers/ca_mtl_tiny.ts";
import { CLASSIFIER, classifierBatches } from "./peers/classifier_batches.ts";
import type { Case, LayerShape } from "./peers/timing.ts";

const { values } = parseArgs({
  options: {
    case: { type: "string", default: "layer" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "128" },
    hidden: { type: "string", default: "256" },
    heads: { type: "string", default: "4" },
    ffn: { type: "string", default: "1024" },
    layers: { type: "string", default: "4" },
    reps: { type: "string", default: "3" },
    "by-grid": { type: "boolean", default: false },
    "row-kernels": { type: "string" },
  },
});

function positive(name: string): number {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`error: --${name} must be a positive integer, got "${values[name as "batch"]}"`);
    Deno.exit(2);
  }
  return v;
}

const shape: LayerShape = {
  B: positive("batch"),
  T: positive("seq"),
  H: positive("hidden"),
  heads: positive("heads"),
  ffn: positive("ffn"),
};
const reps = positive("reps");
if (!["layer", "step", "classifier", "ca_mtl"].includes(values.case!)) {
  console.error(
    `error: --case must be "layer", "step", "classifier" or "ca_mtl", got "${values.case}"`,
  );
  Deno.exit(2);
}
const rowKernels = values["row-kernels"];
if (rowKernels !== undefined && rowKernels !== "lanes" && rowKernels !== "workgroup") {
  console.error(`error: --row-kernels must be "lanes" or "workgroup", got "${rowKernels}"`);
  Deno.exit(2);
}

const gpu = await requestGpu({ rowKernels: rowKernels as RowKernels | undefined });
if (!gpu.hasTimestamps) {
  console.error(`error: adapter "${gpu.adapter.description}" has no timestamp-query feature`);
  Deno.exit(1);
}
const impl = camtlImpl(gpu);
const work: Case = values.case === "layer"
  ? await impl.bertLayer(shape)
  : values.case === "classifier"
  ? classifierCase(gpu, CLASSIFIER, await classifierBatches(8))
  : values.case === "ca_mtl"
  ? caMtlTinyCase(gpu, await demoTrainData())
  : await impl.trainStep!({ ...shape, layers: positive("layers"), classes: 2, vocab: 1000 });

await work.run(); // compile every pipeline
await work.run();
const t0 = performance.now();
const before = { ...gpu.recorder.stats };
for (let i = 0; i < reps; i++) await work.run();
const wall = (performance.now() - t0) / reps;
const counts = statsSince(before, gpu.recorder.stats);
const per = (n: number) => n / reps;

gpu.recorder.startProfile();
for (let i = 0; i < reps; i++) await work.run();
const timings = await gpu.recorder.stopProfile();
work.dispose();

const summary = summarizeTimings(timings, values["by-grid"] ? byGrid : undefined).map((s) => ({
  ...s,
  calls: s.calls / reps,
  totalMs: s.totalMs / reps,
}));
const device = summary.reduce((a, s) => a + s.totalMs, 0);
const what = values.case === "layer"
  ? `BERT layer forward+backward`
  : values.case === "classifier"
  ? "small classifier training step (SST-2 batches)"
  : values.case === "ca_mtl"
  ? "CA-MTL-tiny MT-Uncertainty step (the demo's)"
  : `${values.layers}-layer training step`;
const dims = values.case === "classifier"
  ? `B=32 T<=64 H=128 L=2 NH=2 V=30522`
  : values.case === "ca_mtl"
  ? `b=32 of 3x32 T<=64 H=128 L=4 NH=4`
  : `B=${shape.B} T=${shape.T} H=${shape.H} NH=${shape.heads} FFN=${shape.ffn}`;
console.log(`${what}, ${dims}, on "${gpu.adapter.description}" (${gpu.rowKernels} rows)`);
console.log(
  `wall ${wall.toFixed(1)} ms per rep (unprofiled, mean of ${reps}); ${
    per(counts.dispatches)
  } dispatches; device ${device.toFixed(1)} ms per rep while profiled`,
);
console.log(
  `per rep: ${per(counts.submits)} submits, ${per(counts.syncs)} waits for the device ` +
    `(${per(counts.waitMs).toFixed(1)} ms), ${per(counts.uploadBytes)} bytes uploaded, ` +
    `${per(counts.readbackBytes)} read back, ${per(counts.uniformBytes)} of uniforms`,
);
console.log(formatSummary(summary));
gpu.destroy();
