/**
 * `--fp16` against f32 on one adapter, in one run:
 *
 * 1. Speed, interleaved (f32, fp16, f32, fp16, …; one warm-up each; medians):
 *    - `linear` forward + backward at BERT-base's FFN shape, x `[B·T, 768]`, W `[3072, 768]`;
 *    - one CA-MTL-tiny training step at the demo's shape (B = 32, T = 64): forward, backward,
 *      clip (fp16: unscale + clip, with its 4-byte norm readback) and AdamW.
 * 2. Accuracy: the embedded demo (`deno task train` with no arguments) trained twice, f32 and
 *    `--fp16`, with the same seed and config except that the loss is logged at every step and
 *    evaluation runs once at the end. Prints max |Δloss| over the per-step curves and over the
 *    steps before they part (MT-Uncertainty then draws different batches for the two models),
 *    50-step mean losses, and both runs' dev metrics. Outputs stay in `runs/bench-fp16/`.
 *
 * 3. With `--seeds 42,43,44`: the demo in f32 and fp16 for each seed, and fp16's gap to f32
 *    held against f32's own seed-to-seed spread (`seedSpread`).
 *
 * Run: `deno task bench:fp16 [--rows 512] [--reps 5] [--steps 300] [--skip-demo] [--skip-speed]
 * [--seeds a,b,…]`
 * (`--steps` shortens the demo with `--max_steps`; the schedule then spans the shorter run).
 *
 * @module
 */

import { parseArgs as parseFlags } from "node:util";
import { withAutocast } from "../lib/autograd/autocast.ts";
import { backward } from "../lib/autograd/backward.ts";
import { zeroGrad } from "../lib/optim/zero_grad.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { type Gpu, requestGpu } from "../lib/gpu/device.ts";
import { uploadBatch } from "../lib/nn/bert/inputs.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { syntheticTaskBatch } from "./_batch.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { linear } from "../lib/ops/linear.ts";
import { sum } from "../lib/ops/reduce.ts";
import { AdamW } from "../lib/optim/adamw.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { GradScaler } from "../lib/optim/grad_scaler.ts";
import { runTraining } from "../lib/train/run.ts";
import { Rng } from "../tests/_util/rng.ts";

const { values } = parseFlags({
  options: {
    rows: { type: "string", default: "512" },
    reps: { type: "string", default: "5" },
    steps: { type: "string", default: "300" },
    "skip-demo": { type: "boolean", default: false },
    "skip-speed": { type: "boolean", default: false },
    seeds: { type: "string", default: "" },
  },
});
const rows = Number(values.rows), reps = Number(values.reps), steps = Number(values.steps);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** Runs `f32` and `fp16` alternately, reps + 1 times each, and returns both medians (ms). */
async function interleaved(
  run: (fp16: boolean) => Promise<void>,
): Promise<{ f32: number; fp16: number }> {
  const times = { f32: [] as number[], fp16: [] as number[] };
  for (let r = 0; r <= reps; r++) {
    for (const fp16 of [false, true]) {
      const t0 = performance.now();
      await run(fp16);
      if (r > 0) times[fp16 ? "fp16" : "f32"].push(performance.now() - t0);
    }
  }
  return { f32: median(times.f32), fp16: median(times.fp16) };
}

function report(label: string, t: { f32: number; fp16: number }): void {
  console.log(
    `${label}: f32 ${t.f32.toFixed(1)} ms, fp16 ${t.fp16.toFixed(1)} ms (median of ${reps}), ` +
      `speed ratio f32/fp16 = ${(t.f32 / t.fp16).toFixed(2)}`,
  );
}

async function linearBench(gpu: Gpu): Promise<void> {
  const rng = new Rng(1);
  const x = fromArray(gpu, rng.array(rows * 768), [rows, 768], { persistent: true });
  const w = fromArray(gpu, rng.array(3072 * 768, -0.05, 0.05), [3072, 768], { persistent: true });
  const b = fromArray(gpu, rng.array(3072), [3072], { persistent: true });
  for (const t of [x, w, b]) t.requiresGrad = true;
  const t = await interleaved((fp16) =>
    withScope(gpu, async () => {
      const y = await withAutocast(gpu, () => linear({ x, weight: w, bias: b }), fp16);
      backward(sum({ x: y }));
      await gpu.sync();
    })
  );
  report(`linear fwd+bwd [${rows}, 768]·[3072, 768]ᵀ`, t);
  for (const p of [x, w, b]) {
    p.grad?.dispose();
    p.dispose();
  }
}

async function stepBench(gpu: Gpu): Promise<void> {
  const B = 32, T = 64;
  const tasks = [
    { name: "a", numLabels: 2 },
    { name: "b", numLabels: 2 },
    { name: "c", numLabels: 1 },
  ];
  const model = new CaMtl({
    architecture: "CA-MTL-base",
    bert: caMtlTinyBert(2000),
    tasks,
    maxSeqLength: T,
  }).materialize(gpu, 1);
  const params = model.namedParameters().filter(([, p]) => p.trainable).map(([, p]) => p.value);
  const opt = new AdamW(params.map((param) => ({ param, weightDecay: 0.01 })), { lr: 1e-4 });
  const scaler = new GradScaler();
  const { host, taskIds, slices } = syntheticTaskBatch(B, T, tasks, {
    firstId: 5,
    idRange: 1990,
    score: 0.5,
  });
  const t = await interleaved((fp16) =>
    withScope(gpu, async () => {
      const out = await withAutocast(
        gpu,
        () => model.forward({ inputs: uploadBatch(gpu, host), taskIds, tasks: slices }),
        fp16,
      );
      if (fp16) {
        backward(scaler.scaleLoss(out.loss!));
        const { finite } = await scaler.unscaleAndClip(params, 1);
        if (finite) opt.step();
        scaler.update(finite);
      } else {
        backward(out.loss!);
        clipGradNorm(params, 1);
        opt.step();
      }
      zeroGrad(params);
      await gpu.sync();
    })
  );
  report(`CA-MTL-tiny training step [B=${B}, T=${T}]`, t);
  opt.dispose();
  model.dispose();
}

interface Record_ {
  step: number;
  loss?: number;
  loss_scale?: number;
  eval?: Record<string, Record<string, number>>;
}

async function demoRun(fp16: boolean, dir: string, seed?: number): Promise<Record_[]> {
  const args = {
    demo: true,
    seed: seed ?? 42,
    outputDir: dir,
    loggingDir: `${dir}/tb`,
    fp16,
    maxSteps: steps,
    loggingSteps: 1,
    evaluateDuringTraining: false,
    saveSteps: 0,
  };
  const t0 = performance.now();
  await runTraining(args);
  console.log(`demo ${fp16 ? "fp16" : "f32"}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return (await Deno.readTextFile(`${dir}/log_history.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
}

async function demoBench(): Promise<void> {
  const root = "runs/bench-fp16"; // both runs' outputs and logs are kept here
  const f32 = await demoRun(false, `${root}/f32`);
  const fp16 = await demoRun(true, `${root}/fp16`);
  const losses = (log: Record_[]) =>
    new Map(log.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss!]));
  const a = losses(f32), b = losses(fp16);
  let maxDelta = 0, at = 0, meanA = 0, meanB = 0, apart = 0;
  for (const [step, la] of a) {
    const d = Math.abs(la - b.get(step)!);
    if (d > maxDelta) [maxDelta, at] = [d, step];
    if (d > 1e-2 && apart === 0) apart = step;
  }
  // MT-Uncertainty picks each batch from the model's own entropies, so once the runs differ
  // they train on different batches: after that, per-step losses are not paired; windows are.
  const paired = apart === 0 ? a.size : apart - 1;
  let early = 0;
  for (let s = 1; s <= paired; s++) early = Math.max(early, Math.abs(a.get(s)! - b.get(s)!));
  const window = 50, windows: string[] = [];
  let maxWindow = 0;
  for (let lo = 1; lo <= a.size; lo += window) {
    const keys = [...a.keys()].filter((s) => s >= lo && s < lo + window);
    const ma = keys.reduce((t, s) => t + a.get(s)!, 0) / keys.length;
    const mb = keys.reduce((t, s) => t + b.get(s)!, 0) / keys.length;
    maxWindow = Math.max(maxWindow, Math.abs(ma - mb));
    windows.push(`${lo}-${lo + keys.length - 1}: ${ma.toFixed(3)} / ${mb.toFixed(3)}`);
  }
  const halved = fp16.find((r) => r.loss_scale !== undefined && r.loss_scale < 65536)?.step;
  const last = [...a.keys()].slice(-20);
  for (const s of last) {
    meanA += a.get(s)! / last.length;
    meanB += b.get(s)! / last.length;
  }
  const scales = fp16.filter((r) => r.loss_scale !== undefined).map((r) => r.loss_scale!);
  console.log(
    `demo loss curves over ${a.size} steps: max |Δloss| = ${maxDelta.toFixed(4)} at step ${at}`,
  );
  console.log(
    `per-step losses within 1e-2 for steps 1-${paired}, max |Δloss| there ${
      early.toExponential(2)
    }`,
  );
  console.log(`${window}-step mean losses f32 / fp16: ${windows.join("; ")}`);
  console.log(`max |Δ| of the ${window}-step means: ${maxWindow.toFixed(4)}`);
  console.log(
    `mean loss of the last ${last.length} steps: f32 ${meanA.toFixed(4)}, fp16 ${meanB.toFixed(4)}`,
  );
  console.log(
    `fp16 loss scale: first ${scales[0]}, min ${Math.min(...scales)}, last ${scales.at(-1)}; ` +
      `first halved (a skipped step) at step ${halved ?? "never"}`,
  );
  for (const [name, log] of [["f32", f32], ["fp16", fp16]] as const) {
    console.log(`dev metrics ${name}: ${JSON.stringify(log.findLast((r) => r.eval)?.eval)}`);
  }
}

/** Mean loss of each `window` consecutive logged steps. */
function windowMeans(log: Record_[], window: number): number[] {
  const losses = log.filter((r) => r.loss !== undefined).map((r) => r.loss!);
  const out: number[] = [];
  for (let lo = 0; lo < losses.length; lo += window) {
    const part = losses.slice(lo, lo + window);
    out.push(part.reduce((t, v) => t + v, 0) / part.length);
  }
  return out;
}

/**
 * The tolerance the demo comparison is held to: f32's own spread across seeds. For each seed, f32
 * and fp16 are trained with that seed; D16 is the largest gap between the two 50-step mean
 * losses of one seed, D32 the largest gap between the f32 runs of two seeds, over all windows.
 * fp16 is within tolerance when D16 ≤ D32: it moves the curve less than changing the seed does.
 */
async function seedSpread(seeds: number[]): Promise<void> {
  const window = 50;
  const runs: { seed: number; f32: Record_[]; fp16: Record_[] }[] = [];
  for (const seed of seeds) {
    const root = `runs/bench-fp16/seed-${seed}`;
    runs.push({
      seed,
      f32: await demoRun(false, `${root}/f32`, seed),
      fp16: await demoRun(true, `${root}/fp16`, seed),
    });
  }
  const means = runs.map((r) => ({
    f32: windowMeans(r.f32, window),
    fp16: windowMeans(r.fp16, window),
  }));
  const maxGap = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  const d16 = Math.max(...means.map((m) => maxGap(m.f32, m.fp16)));
  let d32 = 0;
  for (let i = 0; i < means.length; i++) {
    for (let j = i + 1; j < means.length; j++) {
      d32 = Math.max(d32, maxGap(means[i].f32, means[j].f32));
    }
  }
  for (const [k, r] of runs.entries()) {
    const fmt = (a: number[]) => a.map((v) => v.toFixed(3)).join(" ");
    console.log(`seed ${r.seed} ${window}-step means f32: ${fmt(means[k].f32)}`);
    console.log(`seed ${r.seed} ${window}-step means fp16: ${fmt(means[k].fp16)}`);
    for (const [name, log] of [["f32", r.f32], ["fp16", r.fp16]] as const) {
      console.log(
        `seed ${r.seed} dev metrics ${name}: ${JSON.stringify(log.findLast((x) => x.eval)?.eval)}`,
      );
    }
  }
  console.log(
    `D16 (largest fp16-vs-f32 gap of a ${window}-step mean, same seed) = ${d16.toFixed(4)}; ` +
      `D32 (largest gap between f32 runs of two seeds) = ${d32.toFixed(4)}; ` +
      `fp16 ${d16 <= d32 ? "within" : "OUTSIDE"} f32's seed-to-seed spread`,
  );
}

const gpu = await requestGpu();
console.log(`adapter: ${gpu.adapter.description}; shader-f16: ${gpu.hasF16}`);
if (!gpu.hasF16) {
  console.log("the adapter lacks shader-f16: nothing to compare");
  Deno.exit(0);
}
if (!values["skip-speed"]) {
  await linearBench(gpu);
  await stepBench(gpu);
}
gpu.destroy();
if (!values["skip-demo"]) await demoBench();
if (values.seeds) {
  const seeds = values.seeds.split(",").map(Number);
  if (seeds.length < 2 || !seeds.every(Number.isInteger)) {
    console.error(
      `error: --seeds takes two or more integers, e.g. 42,43,44; got "${values.seeds}"`,
    );
    Deno.exit(2);
  }
  await seedSpread(seeds);
}
