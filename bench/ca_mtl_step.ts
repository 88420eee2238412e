/**
 * One training step's forward + backward of CA-MTL-base next to the plain multi-task BERT-base
 * (hard sharing, same 9 GLUE heads) on the same adapter, at B = 8, T = 128, random init.
 * Prints both medians and the ratio. Interleaved, one warm-up each.
 *
 * Run: `deno run bench/ca_mtl_step.ts [--reps 3] [--batch 8] [--json]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { backward } from "../lib/autograd/backward.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { GLUE_TASKS, numLabels } from "../lib/data/glue_tasks.ts";
import { uploadBatch } from "../lib/nn/bert/inputs.ts";
import { type Architecture, BERT_BASE_CASED } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { BASE_VOCAB_BATCH, syntheticTaskBatch } from "./_batch.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    json: { type: "boolean", default: false },
  },
});
const reps = Number(values.reps), B = Number(values.batch), T = 128;
const gpu = await requestGpu();
console.error(`ca_mtl_step bench on "${gpu.adapter.description}", B=${B}, T=${T}`);
const tasks = GLUE_TASKS.map((name) => ({ name, numLabels: numLabels(name) }));
const { host, taskIds, slices } = syntheticTaskBatch(B, T, tasks, BASE_VOCAB_BATCH);

const models = new Map<Architecture, CaMtl>();
for (const arch of ["CA-MTL-base", "bert"] as const) {
  models.set(
    arch,
    new CaMtl({ architecture: arch, bert: BERT_BASE_CASED, tasks, maxSeqLength: T }).materialize(
      gpu,
      1,
    ),
  );
}

async function step(model: CaMtl): Promise<number> {
  const t0 = performance.now();
  await withScope(gpu, async () => {
    const out = model.forward({ inputs: uploadBatch(gpu, host), taskIds, tasks: slices });
    backward(out.loss!);
    await gpu.sync();
  });
  return performance.now() - t0;
}

const times = new Map<Architecture, number[]>([["CA-MTL-base", []], ["bert", []]]);
for (let r = 0; r < reps + 1; r++) {
  for (const [arch, model] of models) {
    const ms = await step(model);
    if (r > 0) times.get(arch)!.push(ms);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const caMtl = median(times.get("CA-MTL-base")!), bert = median(times.get("bert")!);
if (values.json) {
  for (const [arch, t] of times) {
    console.log(JSON.stringify({
      bench: `train_step_fwd_bwd[B=${B},T=${T}]`,
      impl: arch === "bert" ? "bert-base (plain MTL)" : "CA-MTL-base",
      adapter: gpu.adapter.description,
      median_ms: median(t),
      min_ms: Math.min(...t),
      max_ms: Math.max(...t),
    }));
  }
} else {
  console.log(`adapter: ${gpu.adapter.description}`);
  console.log(`CA-MTL-base forward+backward: ${caMtl.toFixed(0)} ms (median of ${reps})`);
  console.log(`BERT-base (plain MTL) forward+backward: ${bert.toFixed(0)} ms (median of ${reps})`);
  console.log(`ratio CA-MTL-base / BERT-base: ${(caMtl / bert).toFixed(2)}`);
}
for (const m of models.values()) m.dispose();
gpu.destroy();
