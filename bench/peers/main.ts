/**
 * camtl against its WebGPU peers, TensorFlow.js (`tfjs-webgpu`) and jax-js (`jaxjs-webgpu`),
 * on the same adapter, in one process: f32 matmul at 512³ and 1024³, and one BERT encoder
 * layer forward + backward (H = 256, 4 heads, T = 128, B = 8, FFN 1024, dropout off, exact
 * GELU; gradient of `sum(output)` w.r.t. every parameter). For each benchmark every
 * implementation is warmed up, then the implementations run interleaved rep by rep in rotating
 * order, so that all see the same machine load; the table gives the median, minimum and
 * maximum and each median's ratio to camtl's (> 1: camtl is faster).
 *
 * The matmuls end with a readback of the result on every side; the layer ends when the device
 * has finished (`gpu.sync()`, `onSubmittedWorkDone` after tfjs's `submitQueue`, jax-js's
 * `blockUntilReady`), without reading gradients back.
 *
 * The training step (`--bench step`): a 4-layer BERT of the same layer shape with word
 * (V = 1000), position and token-type embeddings and their norm, the tanh pooler on [CLS], a
 * 2-class linear head, mean cross-entropy, and one AdamW update of every parameter (lr 1e-4,
 * weight decay 0.01); camtl uses `BertModel`, `crossEntropy` and `AdamW`, tfjs
 * `tf.variableGrads` and an AdamW written with tf ops, jax-js `jit(valueAndGrad)` and a jitted
 * AdamW over the parameter tree.
 *
 * With `--torch` (or `--only …,torch-cpu`), PyTorch on the CPU (`torch_cpu.py` under Debian's
 * `/usr/bin/python3`, 2 threads) runs each benchmark too, in a child process right after the
 * WebGPU implementations have run it, with the same warm-ups and reps; it is left out with a
 * message on stderr where torch is missing.
 *
 * Run: `deno task bench:peers [--reps N] [--warmup N] [--only camtl,tfjs-webgpu] [--torch]
 * [--json]` (`--skip name,…` leaves implementations out; `--jax-device wasm` runs jax-js on
 * Wasm instead). With `--json`, prints one line per implementation and benchmark:
 * `{"bench","impl","adapter","median_ms","min_ms","max_ms"}` (torch-cpu's `adapter` names its
 * threads and BLAS).
 *
 * @module
 */

import { requestGpu } from "../../lib/gpu/device.ts";
import { camtlImpl } from "./camtl.ts";
import { jaxjsImpl, jaxjsSetup } from "./jaxjs.ts";
import { tfjsImpl, tfjsSetup } from "./tfjs.ts";
import { torchAvailable, torchBench } from "./torch.ts";
import {
  type Case,
  type Impl,
  interleave,
  jsonRow,
  LAYER,
  layerBench,
  loadAverage,
  parseArgs,
  type Stats,
  STEP,
  stepBench,
  TABLE_HEADER,
  tableRow,
} from "./timing.ts";

const USAGE = "usage: deno task bench:peers [--reps N] [--warmup N] [--json] " +
  "[--only a,b] [--skip a,b] [--jax-device webgpu|wasm] [--bench matmul,layer,step] [--torch]";
const args = parseArgs(Deno.args, USAGE);
const jaxDevice = Deno.args.includes("--jax-device")
  ? Deno.args[Deno.args.indexOf("--jax-device") + 1]
  : "webgpu";
if (jaxDevice !== "webgpu" && jaxDevice !== "wasm") {
  console.error(USAGE);
  Deno.exit(2);
}
const benches = Deno.args.includes("--bench")
  ? Deno.args[Deno.args.indexOf("--bench") + 1].split(",")
  : ["matmul", "layer", "step"];
const log = (line: string) => {
  if (!args.json) console.log(line);
};

const gpu = await requestGpu();
const adapter = gpu.adapter.description;
const wanted = (name: string) =>
  (args.only === undefined || args.only.includes(name)) && !args.skip.includes(name);

const impls: Impl[] = [camtlImpl(gpu)];
if (wanted("tfjs-webgpu")) {
  try {
    const tfAdapter = await tfjsSetup();
    impls.push(tfjsImpl());
    log(`tfjs-webgpu ${tfAdapter ? `on "${tfAdapter}"` : "(its adapter does not report a name)"}`);
  } catch (e) {
    console.error(`tfjs-webgpu left out: ${(e as Error).message}`);
  }
}
if (wanted(`jaxjs-${jaxDevice}`)) {
  try {
    const devices = await jaxjsSetup(jaxDevice);
    impls.push(jaxjsImpl(jaxDevice));
    log(`jaxjs-${jaxDevice} (jax.init() offers ${devices.join(", ")})`);
  } catch (e) {
    console.error(`jaxjs-${jaxDevice} left out: ${(e as Error).message}`);
  }
}
const used = impls.filter((i) => wanted(i.name));
const torch = args.torch && await torchAvailable(log);
log(
  `adapter: "${adapter}"; load average ${loadAverage()}; ` +
    `${args.warmup} warm-ups, median of ${args.reps}`,
);
log("");
log(TABLE_HEADER);

let torchAdapter = "";

/** Runs `kind` in `torch_cpu.py`; its result for `bench`, or none when it failed. */
async function torchRun(bench: string, kind: string): Promise<Record<string, Stats>> {
  if (!torch) return {};
  try {
    const found = (await torchBench(kind, { reps: args.reps, warmup: args.warmup, threads: 2 }))
      .find((r) => r.bench === bench);
    if (!found) throw new Error(`torch_cpu.py printed no "${bench}"`);
    torchAdapter = found.adapter;
    return { "torch-cpu": found.stats };
  } catch (e) {
    console.error(`${bench} torch-cpu left out: ${(e as Error).message}`);
    return {};
  }
}
async function run(
  bench: string,
  kind: string,
  make: (impl: Impl) => Promise<Case> | undefined,
): Promise<void> {
  const cases: Record<string, Case> = {};
  for (const impl of used) {
    try {
      const c = make(impl);
      if (c) cases[impl.name] = await c;
    } catch (e) {
      console.error(`${bench} ${impl.name} left out: ${(e as Error).message}`);
    }
  }
  let result: Record<string, Stats>;
  try {
    result = await interleave(cases, args.warmup, args.reps);
  } finally {
    for (const c of Object.values(cases)) c.dispose();
  }
  Object.assign(result, await torchRun(bench, kind));
  const base = result.camtl?.median;
  for (const [impl, s] of Object.entries(result)) {
    console.log(
      args.json
        ? jsonRow(bench, impl, impl === "torch-cpu" ? torchAdapter : adapter, s)
        : tableRow(bench, impl, s, base),
    );
  }
}

if (benches.includes("matmul")) {
  for (const S of [512, 1024]) {
    await run(`matmul_f32[${S}x${S}x${S}]`, "matmul", (i) => i.matmul(S));
  }
}
if (benches.includes("layer")) {
  await run(layerBench(LAYER), "layer", (i) => i.bertLayer(LAYER));
}
if (benches.includes("step")) {
  await run(stepBench(STEP), "step", (i) => i.trainStep?.(STEP));
}
log(`load average after: ${loadAverage()}`);
// jax-js's Wasm worker threads would keep the process alive.
Deno.exit(0);
