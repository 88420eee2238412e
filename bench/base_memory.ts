/**
 * Peak GPU bytes of full training steps at BERT-base size: CA-MTL-base (or, with
 * `--arch bert`, the plain multi-task BERT-base with the same 9 GLUE heads), random init as
 * `bench/ca_mtl_step.ts` builds it, B = 8, T = 128; each step is forward + backward, global-norm
 * clipping at 1, AdamW (lr 2e-5, weight decay 0.01 outside biases and LayerNorm gains) and
 * zeroing the gradients, in the trainer's order. Prints each step's peak live bytes (the pool's
 * `resetPeak()` before the step), the live and reserved bytes after it and its time, then the
 * last step's peak split into parameters, gradients, moments and activations. Fails (exit 1)
 * when the live bytes after the last step exceed those after the first.
 *
 * A step takes about 20 s on lavapipe; the default of 2 steps shows the first step (which
 * allocates the gradients and moments) and a steady one.
 *
 * Run: `deno run bench/base_memory.ts [--steps 2] [--batch 8] [--arch CA-MTL-base|bert]
 * [--json]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { backward } from "../lib/autograd/backward.ts";
import { zeroGrad } from "../lib/optim/zero_grad.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { GLUE_TASKS, numLabels } from "../lib/data/glue_tasks.ts";
import { uploadBatch } from "../lib/nn/bert/inputs.ts";
import { BERT_BASE_CASED } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { BASE_VOCAB_BATCH, syntheticTaskBatch } from "./_batch.ts";
import { AdamW } from "../lib/optim/adamw.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { groupParameters } from "../lib/optim/params.ts";
import { breakdown, breakdownLines, formatBytes } from "./_memory.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "2" },
    batch: { type: "string", default: "8" },
    arch: { type: "string", default: "CA-MTL-base" },
    json: { type: "boolean", default: false },
  },
});
const steps = Number(values.steps), B = Number(values.batch), T = 128;
const arch = values.arch;
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(B) || B < 1) {
  console.error(
    `Cannot run the base memory bench: --steps is "${values.steps}" and --batch is ` +
      `"${values.batch}", expected integers ≥ 1`,
  );
  Deno.exit(2);
}
if (arch !== "CA-MTL-base" && arch !== "bert") {
  console.error(
    `Cannot run the base memory bench: --arch is "${arch}", expected "CA-MTL-base" or "bert"`,
  );
  Deno.exit(2);
}

const gpu = await requestGpu();
console.error(`base_memory bench on "${gpu.adapter.description}", ${arch}, B=${B}, T=${T}`);
const tasks = GLUE_TASKS.map((name) => ({ name, numLabels: numLabels(name) }));
const { host, taskIds, slices } = syntheticTaskBatch(B, T, tasks, BASE_VOCAB_BATCH);

const model = new CaMtl({ architecture: arch, bert: BERT_BASE_CASED, tasks, maxSeqLength: T })
  .materialize(gpu, 1);
model.train();
const named = model.namedParameters().filter(([, p]) => p.trainable);
const params = named.map(([, p]) => p.value);
const optimizer = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr: 2e-5 });

interface StepRecord {
  step: number;
  ms: number;
  peak: number;
  live: number;
  reserved: number;
}
const records: StepRecord[] = [];
for (let step = 1; step <= steps; step++) {
  gpu.pool.resetPeak();
  const t0 = performance.now();
  await withScope(gpu, () => {
    const out = model.forward({ inputs: uploadBatch(gpu, host), taskIds, tasks: slices });
    backward(out.loss!);
  });
  await withScope(gpu, () => {
    clipGradNorm(params, 1);
    optimizer.step();
    zeroGrad(params);
  });
  await gpu.sync();
  const s = gpu.pool.stats();
  records.push({
    step,
    ms: performance.now() - t0,
    peak: s.peakLiveBytes,
    live: s.liveBytes,
    reserved: s.reservedBytes,
  });
}
const first = records[0], last = records[records.length - 1];
const parts = breakdown(model, { peak: last.peak, resident: last.live });
const count = model.countParameters();
if (values.json) {
  for (const r of records) {
    console.log(JSON.stringify({
      bench: `base_train_step_memory[arch=${arch},B=${B},T=${T}]`,
      impl: "camtl",
      adapter: gpu.adapter.description,
      step: r.step,
      ms: r.ms,
      step_peak_bytes: r.peak,
      live_bytes: r.live,
      reserved_bytes: r.reserved,
      ...(r === last ? { breakdown: parts } : {}),
    }));
  }
} else {
  console.log(`adapter: ${gpu.adapter.description}`);
  console.log(
    `${arch} (${count.total} parameters, ${count.trainable} trainable), B ${B}, T ${T}: ` +
      `forward + backward + clip + AdamW`,
  );
  for (const r of records) {
    console.log(
      `step ${r.step}: ${(r.ms / 1000).toFixed(1)} s, peak ${formatBytes(r.peak)}, live after ` +
        `${formatBytes(r.live)}, reserved ${formatBytes(r.reserved)}`,
    );
  }
  console.log(`peak of step ${last.step}, by owner:`);
  for (const line of breakdownLines(parts)) console.log(line);
}
optimizer.dispose();
model.dispose();
gpu.destroy();
if (last.live > first.live) {
  console.error(`GPU memory grew between step 1 and step ${last.step}`);
  Deno.exit(1);
}
