/**
 * `deno task bench:torch`: camtl next to PyTorch on the CPU (Debian's python3-torch, 2
 * threads, `torch_cpu.py` in a child process), on the same models and batches, in one run:
 *
 * - `classifier_step[…]`: the small BERT classifier (hidden 128, 2 layers, 2 heads, V = 30,522)
 *   trained on real SST-2 batches of 32 (at most 64 tokens) as a library user's loop trains it
 *   (`classifierCase`; needs `$CAMTL_DATA`, else it is left out with a message);
 * - `ca_mtl_tiny_mtu_step[…]`: the embedded demo's step, CA-MTL-tiny with MT-Uncertainty
 *   sampling: a no-grad scoring forward over 3 tasks × 32 candidates, the 32 most uncertain
 *   kept, the training step on them (`ca_mtl_tiny.ts`, `torch_ca_mtl.py`; both sides score the
 *   same candidate pools, each selects with its own model);
 * - `bert_layer_fwd_bwd[…]` and `train_step[…]`: the H = 256 BERT layer forward + backward and
 *   the 4-layer training step of `bench:peers`.
 *
 * PyTorch runs in another process, so the two sides alternate by blocks of reps, not rep by
 * rep: after camtl's warm-ups, each of `--rounds` rounds runs a block of camtl's reps and a
 * block of PyTorch's (a fresh process with its own warm-ups), camtl first in even rounds and
 * PyTorch first in odd ones. The median, minimum and maximum are over all reps of a side.
 *
 * Prints the adapter, then the table as `bench:peers` prints it, plus examples per second and,
 * for camtl, dispatches, submits and device waits per step (the recorder's counters). With
 * `--json`: one line per implementation and benchmark, `{"bench","impl","adapter","median_ms",
 * "min_ms","max_ms","examples_per_s"}` and for camtl `"dispatches","submits","syncs"` per step.
 * Without torch (`/usr/bin/python3` cannot import it) camtl runs alone, after a one-line message.
 *
 * Run: `deno task bench:torch [--reps N] [--rounds N] [--warmup N] [--json]
 * [--bench classifier,ca_mtl,layer,step]` (`--reps`: each side's reps in all, split evenly
 * across the rounds, at least 5 a block; default 10 in 2 rounds, 2 warm-ups).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requestGpu } from "../../lib/gpu/device.ts";
import { statsSince } from "../../lib/gpu/recorder.ts";
import {
  CA_MTL_BENCH,
  caMtlTinyCase,
  candidatePools,
  DEMO_STEP,
  demoTrainData,
  poolsJson,
} from "./ca_mtl_tiny.ts";
import { camtlImpl, classifierCase } from "./camtl.ts";
import { batchesJson, CLASSIFIER, classifierBatches } from "./classifier_batches.ts";
import {
  type Case,
  jsonRow,
  LAYER,
  layerBench,
  loadAverage,
  stats,
  STEP,
  stepBench,
  TABLE_HEADER,
  tableRow,
  timeOnce,
} from "./timing.ts";
import { torchAvailable, torchBench } from "./torch.ts";

const USAGE = "usage: deno task bench:torch [--reps N] [--rounds N] [--warmup N] [--json] " +
  "[--bench classifier,ca_mtl,layer,step]";
const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
    warmup: { type: "string", default: "2" },
    bench: { type: "string", default: "classifier,ca_mtl,layer,step" },
    json: { type: "boolean", default: false },
  },
});
const count = (name: "reps" | "rounds" | "warmup", least: number) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < least) {
    console.error(
      `error: --${name} must be an integer ≥ ${least}, got "${values[name]}"\n${USAGE}`,
    );
    Deno.exit(2);
  }
  return v;
};
const rounds = count("rounds", 1), warmup = count("warmup", 0);
const perBlock = Math.max(5, Math.ceil(count("reps", 1) / rounds));
const benches = values.bench!.split(",");
const unknown = benches.filter((b) => !["classifier", "ca_mtl", "layer", "step"].includes(b));
if (unknown.length > 0) {
  console.error(`error: --bench has unknown ${unknown.join(", ")}\n${USAGE}`);
  Deno.exit(2);
}
const log = (line: string) => {
  if (!values.json) console.log(line);
};

const gpu = await requestGpu();
const adapter = gpu.adapter.description;
const torch = await torchAvailable(log);
log(
  `adapter: "${adapter}"; load average ${loadAverage()}; ${warmup} warm-ups, then ${rounds} ` +
    `rounds of ${perBlock} reps a side`,
);
log("");
log(`${TABLE_HEADER}        ex/s  dispatches  submits  syncs`);

/** One workload on both sides; `torchArgs` are the input files torch_cpu.py reads. */
interface Workload {
  bench: string;
  kind: string;
  /** Examples trained on per rep. */
  examples: number;
  camtl: () => Case | Promise<Case>;
  torchArgs?: string[];
}

/** camtl's block: `perBlock` timed reps, adding their times and counters to `into`. */
async function camtlBlock(c: Case, into: { times: number[]; counts: Record<string, number> }) {
  const before = { ...gpu.recorder.stats };
  for (let i = 0; i < perBlock; i++) into.times.push(await timeOnce(c));
  for (const [k, v] of Object.entries(statsSince(before, gpu.recorder.stats))) {
    into.counts[k] = (into.counts[k] ?? 0) + v;
  }
}

/** torch's block: a fresh process, `warmup` untimed and `perBlock` timed reps; its adapter. */
async function torchBlock(w: Workload, times: number[]): Promise<string> {
  const found = (await torchBench(w.kind, {
    reps: perBlock,
    warmup,
    threads: 2,
    args: w.torchArgs,
  })).find((r) => r.bench === w.bench);
  if (!found) throw new Error(`torch_cpu.py printed no "${w.bench}"`);
  times.push(...found.times);
  return found.adapter;
}

/** A side's stats over all its reps, and examples per second at the median. */
function report(w: Workload, impl: string, where: string, times: number[]) {
  const s = stats(times);
  return { s, perSecond: (w.examples * 1000) / s.median, where, impl };
}

async function measure(w: Workload): Promise<void> {
  let c: Case;
  try {
    c = await w.camtl();
  } catch (e) {
    console.error(`${w.bench} left out: ${(e as Error).message}`);
    return;
  }
  const mine = { times: [] as number[], counts: {} as Record<string, number> };
  const theirs: number[] = [];
  let torchAdapter = "", torchOn = torch;
  try {
    for (let i = 0; i < warmup; i++) await c.run();
    for (let r = 0; r < rounds; r++) {
      const sides = [() => camtlBlock(c, mine), async () => {
        if (!torchOn) return;
        try {
          torchAdapter = await torchBlock(w, theirs);
        } catch (e) {
          console.error(`${w.bench} torch-cpu left out: ${(e as Error).message}`);
          torchOn = false;
        }
      }];
      if (r % 2 === 1) sides.reverse();
      for (const side of sides) await side();
    }
  } finally {
    c.dispose();
  }
  const rows = [report(w, "camtl", adapter, mine.times)];
  if (torchOn) rows.push(report(w, "torch-cpu", torchAdapter, theirs));
  const per = (k: string) => (mine.counts[k] ?? 0) / mine.times.length;
  for (const row of rows) {
    const counts = row.impl === "camtl"
      ? { dispatches: per("dispatches"), submits: per("submits"), syncs: per("syncs") }
      : undefined;
    if (values.json) {
      const extra = { examples_per_s: row.perSecond, ...counts };
      console.log(jsonRow(w.bench, row.impl, row.where, row.s, extra));
    } else {
      const tail = counts
        ? `${counts.dispatches.toFixed(0).padStart(12)} ${counts.submits.toFixed(1).padStart(8)} ` +
          `${counts.syncs.toFixed(1).padStart(6)}`
        : "";
      console.log(
        `${tableRow(w.bench, row.impl, row.s, rows[0].s.median)} ` +
          `${row.perSecond.toFixed(1).padStart(11)}${tail}`,
      );
    }
  }
}

const files: string[] = [];
/** A temporary JSON file holding `text`, removed at the end. */
async function tempJson(text: string): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "camtl-bench-torch-", suffix: ".json" });
  files.push(file);
  await Deno.writeTextFile(file, text);
  return file;
}

const workloads: Workload[] = [];
try {
  if (benches.includes("classifier")) {
    try {
      const batches = await classifierBatches(8);
      workloads.push({
        bench: "classifier_step[L=2,B=32,T<=64,H=128,V=30522,K=2,sst-2]",
        kind: "classifier",
        examples: CLASSIFIER.B,
        camtl: () => classifierCase(gpu, CLASSIFIER, batches),
        torchArgs: ["--batches", await tempJson(batchesJson(batches))],
      });
    } catch (e) {
      console.error(`classifier_step left out: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (benches.includes("ca_mtl")) {
    const data = await demoTrainData();
    const pools = await candidatePools(data, warmup + rounds * perBlock);
    workloads.push({
      bench: CA_MTL_BENCH,
      kind: "ca_mtl",
      examples: DEMO_STEP.batchSize,
      camtl: () => caMtlTinyCase(gpu, data),
      torchArgs: ["--pools", await tempJson(poolsJson(data, pools))],
    });
  }
  const impl = camtlImpl(gpu);
  if (benches.includes("layer")) {
    workloads.push({
      bench: layerBench(LAYER),
      kind: "layer",
      examples: LAYER.B,
      camtl: () => impl.bertLayer(LAYER),
    });
  }
  if (benches.includes("step")) {
    workloads.push({
      bench: stepBench(STEP),
      kind: "step",
      examples: STEP.B,
      camtl: () => impl.trainStep!(STEP),
    });
  }
  for (const w of workloads) await measure(w);
} finally {
  for (const f of files) await Deno.remove(f);
}
log(`load average after: ${loadAverage()}`);
gpu.destroy();
