/**
 * Training throughput and GPU memory of CA-MTL-tiny under MT-Uncertainty on the embedded demo
 * suite (T = 64, as the demo): examples per second; the live bytes of the buffer pool after
 * step 10 and after the last step; each step's peak live bytes (`resetPeak()` at every step, so
 * a step's peak includes the MT-Uncertainty scoring forward that picks its batch, forward,
 * backward, clipping, AdamW and the logging readback); the peak since training began after
 * step 10 and after the last step; and the bytes held from the device. The run fails (exit 1)
 * when the live bytes between steps grow after step 10 (a leak). Growth of the peak or of the
 * reserved bytes after step 10 is printed as a warning: each batch mixes the tasks
 * differently, so tensor sizes, and with them the peak, vary from step to step, and a new
 * worst case can come late.
 * The last step's peak is split into parameters, gradients, AdamW moments and activations.
 *
 * Run: `deno run -R -W bench/train_memory.ts [--steps 500] [--batch 8] [--json]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requestGpu } from "../lib/gpu/device.ts";
import { getTask } from "../lib/data/tasks.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { Trainer } from "../lib/train/trainer.ts";
import { tinyOptions } from "../tests/_util/tiny_trainer.ts";
import { demoData } from "../lib/train/run_data.ts";
import { breakdown, breakdownLines, formatBytes } from "./_memory.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "500" },
    batch: { type: "string", default: "8" },
    json: { type: "boolean", default: false },
  },
});
const steps = Number(values.steps), batch = Number(values.batch);
if (!Number.isInteger(steps) || steps <= 10 || !Number.isInteger(batch) || batch < 1) {
  console.error(
    `Cannot run the memory bench: --steps is "${values.steps}" and --batch is ` +
      `"${values.batch}", expected integers with steps > 10 and batch ≥ 1`,
  );
  Deno.exit(2);
}
const gpu = await requestGpu();
console.error(`train_memory bench on "${gpu.adapter.description}"`);
const data = await demoData({
  seed: 12,
  maxSeqLength: 64,
  splits: { train: true, dev: false, test: false },
});
const tasks = data.tasks.map((name) => ({ name, numLabels: getTask(name).numLabels }));
const model = new CaMtl({
  architecture: "CA-MTL-base",
  bert: caMtlTinyBert(data.tokenizer.vocabSize),
  tasks,
  maxSeqLength: 64,
}).materialize(gpu, 12);
/** Pool counters taken right after a step. */
interface Mark {
  live: number;
  stepPeak: number;
  peakSinceStart: number;
  reserved: number;
  created: number;
}
const marks: Record<number, Mark> = {};
let peakSinceStart = 0, examples = 0;
// The range of per-step peaks after step 10: batches mix tasks differently, so heads differ.
let lowStepPeak = Infinity, highStepPeak = 0;
const trainer = new Trainer(
  gpu,
  model,
  { train: data.train, dev: [] },
  tinyOptions(await Deno.makeTempDir(), {
    perDeviceTrainBatchSize: batch,
    perDeviceEvalBatchSize: 64,
    maxSteps: steps,
    warmupProportion: 0.1,
    loggingSteps: 50,
    seed: 12,
  }),
  {
    onStep: (step) => {
      const s = gpu.pool.stats();
      peakSinceStart = Math.max(peakSinceStart, s.peakLiveBytes);
      if (step > 10) {
        lowStepPeak = Math.min(lowStepPeak, s.peakLiveBytes);
        highStepPeak = Math.max(highStepPeak, s.peakLiveBytes);
      }
      if (step === 10 || step === steps) {
        marks[step] = {
          live: s.liveBytes,
          stepPeak: s.peakLiveBytes,
          peakSinceStart,
          reserved: s.reservedBytes,
          created: s.created,
        };
      }
      gpu.pool.resetPeak();
    },
  },
);
const t0 = performance.now();
gpu.pool.resetPeak();
await trainer.train();
const seconds = (performance.now() - t0) / 1000;
examples = steps * batch;
const rate = examples / seconds;
const first = marks[10], last = marks[steps];
const parts = breakdown(model, { peak: last.stepPeak, resident: last.live });
if (values.json) {
  console.log(JSON.stringify({
    bench: `ca_mtl_tiny_train[B=${batch},T=64,steps=${steps}]`,
    impl: "camtl",
    adapter: gpu.adapter.description,
    examples_per_second: rate,
    live_bytes_step_10: first.live,
    [`live_bytes_step_${steps}`]: last.live,
    step_peak_bytes_step_10: first.stepPeak,
    [`step_peak_bytes_step_${steps}`]: last.stepPeak,
    peak_since_start_step_10: first.peakSinceStart,
    [`peak_since_start_step_${steps}`]: last.peakSinceStart,
    step_peak_bytes_after_step_10: { min: lowStepPeak, max: highStepPeak },
    reserved_bytes_step_10: first.reserved,
    [`reserved_bytes_step_${steps}`]: last.reserved,
    breakdown: parts,
  }));
} else {
  const at = (label: string, pick: (m: Mark) => number) =>
    console.log(
      `${label.padEnd(40)} step 10: ${formatBytes(pick(first))}, step ${steps}: ${
        formatBytes(pick(last))
      }`,
    );
  console.log(`adapter: ${gpu.adapter.description}`);
  console.log(
    `CA-MTL-tiny, MT-Uncertainty, batch ${batch}, T 64: ${
      rate.toFixed(1)
    } examples/s over ${steps} steps`,
  );
  at("live GPU bytes after the step", (m) => m.live);
  at("peak live bytes of the step", (m) => m.stepPeak);
  console.log(
    `${"peak live bytes of steps 11 to " + steps}`.padEnd(41) +
      `from ${formatBytes(lowStepPeak)} to ${formatBytes(highStepPeak)}`,
  );
  at("peak live bytes since training began", (m) => m.peakSinceStart);
  at("bytes held from the device (reserved)", (m) => m.reserved);
  console.log(`buffers created: ${first.created} by step 10, ${last.created} by step ${steps}`);
  console.log(`peak of step ${steps}, by owner:`);
  for (const line of breakdownLines(parts)) console.log(line);
}
trainer.dispose();
model.dispose();
gpu.destroy();
for (const k of ["peakSinceStart", "reserved"] as const) {
  if (last[k] > first[k]) {
    console.error(
      `warning: ${k} grew by ${((last[k] / first[k] - 1) * 100).toFixed(1)}% between step 10 ` +
        `and step ${steps}`,
    );
  }
}
if (last.live !== first.live) {
  console.error(`GPU memory leaked: live bytes went from ${first.live} to ${last.live}`);
  Deno.exit(1);
}
