/**
 * Training throughput and GPU memory of CA-MTL-tiny under MT-Uncertainty on the embedded demo
 * suite: examples per second, and the live bytes of the buffer pool after step 10 and after
 * step 500, which must be equal (exit code 1 otherwise). Also prints the peak live bytes.
 *
 * Run: `deno run -A bench/train_memory.ts [--steps 500] [--batch 8] [--json]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requestGpu } from "../lib/gpu/device.ts";
import { getTask } from "../lib/data/tasks.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { Trainer } from "../lib/train/trainer.ts";
import { demoData } from "../lib/train/run_data.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "500" },
    batch: { type: "string", default: "8" },
    json: { type: "boolean", default: false },
  },
});
const steps = Number(values.steps), batch = Number(values.batch);
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
const live: Record<number, number> = {};
let peak = 0, examples = 0;
const trainer = new Trainer(gpu, model, { train: data.train, dev: [] }, {
  outputDir: await Deno.makeTempDir(),
  batchSize: batch,
  evalBatchSize: 64,
  learningRate: 1e-3,
  weightDecay: 0.01,
  adamEpsilon: 1e-8,
  maxGradNorm: 1,
  numTrainEpochs: 1,
  maxSteps: steps,
  warmupProportion: 0.1,
  gradientAccumulationSteps: 1,
  loggingSteps: 50,
  loggingFirstStep: false,
  saveSteps: 0,
  saveTotalLimit: null,
  evaluateDuringTraining: false,
  seed: 12,
  sampling: {
    mode: "mt-uncertainty",
    uniformMtSampling: false,
    percentOfMaxDataSize: 1,
    scoreMode: "code",
  },
  modelConfig: {},
}, {
  onStep: (step) => {
    const bytes = gpu.pool.stats().liveBytes;
    peak = Math.max(peak, bytes);
    if (step === 10 || step === steps) live[step] = bytes;
  },
});
const t0 = performance.now();
await trainer.train();
const seconds = (performance.now() - t0) / 1000;
examples = steps * batch;
const rate = examples / seconds;
if (values.json) {
  console.log(JSON.stringify({
    bench: `ca_mtl_tiny_train[B=${batch},steps=${steps}]`,
    impl: "camtl",
    adapter: gpu.adapter.description,
    examples_per_second: rate,
    live_bytes_step_10: live[10],
    [`live_bytes_step_${steps}`]: live[steps],
    peak_live_bytes: peak,
  }));
} else {
  console.log(`adapter: ${gpu.adapter.description}`);
  console.log(
    `CA-MTL-tiny, MT-Uncertainty, batch ${batch}: ${
      rate.toFixed(1)
    } examples/s over ${steps} steps`,
  );
  console.log(
    `live GPU bytes after step 10: ${live[10]}, after step ${steps}: ${live[steps]}, peak ${peak}`,
  );
}
trainer.dispose();
model.dispose();
gpu.destroy();
if (live[10] !== live[steps]) {
  console.error(`GPU memory grew between step 10 and step ${steps}`);
  Deno.exit(1);
}
