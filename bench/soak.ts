/**
 * Soak run: CA-MTL-tiny trained for many steps on the embedded demo suite under MT-Uncertainty,
 * evaluating and saving a checkpoint every `--every` steps, to show that nothing grows and
 * nothing is lost over a long run:
 *
 * - GPU live bytes (the buffer pool's, after the step) and the process's resident host memory
 *   (RSS) at every checkpoint step; the run fails (exit 1) if live GPU bytes after the first
 *   checkpoint differ from those at the end, or if RSS grows by more than `--rss-slack` MiB
 *   between the first checkpoint and the end (the JS heap and allocator settle in steps, so
 *   RSS is compared with a slack, not exactly);
 * - exact resume: a fresh process state (new model from the next-to-last checkpoint, new
 *   trainer, `resume()`) trains to the last step, and its weights must equal the uninterrupted
 *   run's bit for bit, as must the logged losses and dev metrics of the last window.
 *
 * Run: `deno task bench:soak [--steps 5000] [--every 500] [--batch 4] [--seq 32] [--json]`.
 * Figures are recorded in docs/robustness.md.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requestGpu } from "../lib/gpu/device.ts";
import { getTask } from "../lib/data/tasks.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { caMtlConfigToJson, loadCaMtl } from "../lib/nn/ca_mtl/pretrained.ts";
import type { LogRecord } from "../lib/train/log.ts";
import { Trainer, type TrainerOptions } from "../lib/train/trainer.ts";
import { demoData } from "../lib/train/run_data.ts";
import { formatBytes } from "./_memory.ts";
import { tinyOptions } from "../tests/_util/tiny_trainer.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "5000" },
    every: { type: "string", default: "500" },
    batch: { type: "string", default: "4" },
    seq: { type: "string", default: "32" },
    "rss-slack": { type: "string", default: "64" },
    json: { type: "boolean", default: false },
  },
});
const steps = Number(values.steps), every = Number(values.every);
const batch = Number(values.batch), seq = Number(values.seq);
const rssSlack = Number(values["rss-slack"]) * 2 ** 20;
if (![steps, every, batch, seq].every((n) => Number.isInteger(n) && n > 0) || steps < 2 * every) {
  console.error(
    `Cannot run the soak: --steps ${values.steps}, --every ${values.every}, --batch ` +
      `${values.batch} and --seq ${values.seq} must be positive integers with steps ≥ 2·every`,
  );
  Deno.exit(2);
}

const gpu = await requestGpu();
const started = performance.now();
console.error(`soak on "${gpu.adapter.description}": ${steps} steps, B ${batch}, T ${seq}`);
const data = await demoData({
  seed: 12,
  maxSeqLength: seq,
  splits: { train: true, dev: true, test: false },
});
const tasks = data.tasks.map((name) => ({ name, numLabels: getTask(name).numLabels }));
const config = {
  architecture: "CA-MTL-base" as const,
  bert: caMtlTinyBert(data.tokenizer.vocabSize),
  tasks,
  maxSeqLength: seq,
};
const root = await Deno.makeTempDir({ prefix: "camtl-soak-" });
const options = (outputDir: string): TrainerOptions =>
  tinyOptions(outputDir, {
    perDeviceTrainBatchSize: batch,
    perDeviceEvalBatchSize: 64,
    learningRate: 5e-4,
    maxSteps: steps,
    warmupProportion: 0.1,
    loggingSteps: every,
    saveSteps: every,
    saveTotalLimit: 2,
    evaluateDuringTraining: true,
    seed: 12,
    modelConfig: caMtlConfigToJson(config),
  });

/** Memory after a checkpoint step. */
interface Mark {
  step: number;
  liveBytes: number;
  reservedBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  seconds: number;
}
const marks: Mark[] = [];
const model = new CaMtl(config, { seed: 12 }).materialize(gpu, 12);
const trainer = new Trainer(gpu, model, { train: data.train, dev: data.dev }, options(root), {
  onCheckpoint: () => {
    const pool = gpu.pool.stats(), mem = Deno.memoryUsage();
    marks.push({
      step: trainer.globalStep,
      liveBytes: pool.liveBytes,
      reservedBytes: pool.reservedBytes,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      seconds: (performance.now() - started) / 1000,
    });
    const m = marks.at(-1)!;
    console.error(
      `step ${m.step}: live ${formatBytes(m.liveBytes)}, RSS ${formatBytes(m.rssBytes)}, ` +
        `${m.seconds.toFixed(0)} s`,
    );
  },
});
await trainer.train();
const lastWindow = (t: Trainer): LogRecord => t.logHistory.at(-1)!;
const straight = lastWindow(trainer);
const straightWeights = await Deno.readFile(`${root}/checkpoint-${steps}/model.safetensors`);
trainer.dispose();
model.dispose();

// Resume from the next-to-last checkpoint, as a restarted process would.
const from = `${root}/checkpoint-${steps - every}`;
const { model: again } = await loadCaMtl(from, { gpu, tasks, maxSeqLength: seq });
const resumed = new Trainer(gpu, again, { train: data.train, dev: data.dev }, options(`${root}/r`));
await resumed.resume(from);
await resumed.train();
const resumedWindow = lastWindow(resumed);
const resumedWeights = await Deno.readFile(`${root}/r/checkpoint-${steps}/model.safetensors`);
resumed.dispose();
again.dispose();
gpu.destroy();

const sameWeights = straightWeights.length === resumedWeights.length &&
  straightWeights.every((b, i) => b === resumedWeights[i]);
const sameLog = JSON.stringify({ ...straight, examples_per_second: 0 }) ===
  JSON.stringify({ ...resumedWindow, examples_per_second: 0 });
const first = marks[0], last = marks.at(-1)!;
const result = {
  bench: `ca_mtl_tiny_soak[B=${batch},T=${seq},steps=${steps},every=${every}]`,
  adapter: gpu.adapter.description,
  minutes: (performance.now() - started) / 60000,
  marks,
  resume: { from, sameWeights, sameLastLog: sameLog, loss: resumedWindow.loss },
  lastEval: straight.eval,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`adapter: ${result.adapter}; ${result.minutes.toFixed(1)} min`);
  console.log("step  live GPU bytes              reserved                    RSS");
  for (const m of marks) {
    console.log(
      `${String(m.step).padStart(5)} ${formatBytes(m.liveBytes).padEnd(27)} ` +
        `${formatBytes(m.reservedBytes).padEnd(27)} ${formatBytes(m.rssBytes)}`,
    );
  }
  console.log(
    `resume from ${from}: weights at step ${steps} ${sameWeights ? "identical" : "DIFFER"}, ` +
      `last log record ${sameLog ? "identical" : "DIFFERS"}`,
  );
  console.log(`dev metrics at step ${steps}: ${JSON.stringify(straight.eval)}`);
}
await Deno.remove(root, { recursive: true });
const failures: string[] = [];
if (last.liveBytes !== first.liveBytes) {
  failures.push(`live GPU bytes went from ${first.liveBytes} to ${last.liveBytes}`);
}
if (last.rssBytes - first.rssBytes > rssSlack) {
  failures.push(`RSS grew from ${first.rssBytes} to ${last.rssBytes}`);
}
if (!sameWeights || !sameLog) failures.push("the resumed run differs from the uninterrupted one");
if (failures.length > 0) {
  console.error(`soak failed: ${failures.join("; ")}`);
  Deno.exit(1);
}
