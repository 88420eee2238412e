/**
 * `deno task bench:compare --against <checkout>`: this checkout's camtl against another
 * checkout's (an older commit in a `git worktree`, a branch under review), in one process on
 * one adapter, interleaved as `bench:peers` does. Both checkouts' `bench/peers/camtl.ts` are
 * imported, each opening its own device on the same adapter, and run the peer benchmark's
 * workloads: one BERT layer forward+backward and a 4-layer training step. `--bench classifier`
 * adds the small classifier's training step on real SST-2 batches (`classifier_loop.ts`: one
 * loop over each checkout's own modules), each side batched as its own loader batches: padded to
 * the longest sentence, rounded up to a multiple of its `PAD_MULTIPLE` where it has one.
 *
 * ```sh
 * git worktree add /tmp/camtl-before <commit>
 * deno task bench:compare --against /tmp/camtl-before --reps 7
 * ```
 *
 * A ratio above 1 means this checkout is faster. The other checkout must have
 * `bench/peers/camtl.ts` with `camtlImpl` and its own `lib/gpu/device.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { requestGpu } from "../lib/gpu/device.ts";
import { camtlImpl } from "./peers/camtl.ts";
import { CLASSIFIER, classifierBatchSets } from "./peers/classifier_batches.ts";
import { PAD_MULTIPLE } from "../lib/data/loader.ts";
import { classifierLoop, loopModules } from "./peers/classifier_loop.ts";
import { type Case, type Impl, interleave, type LayerShape, loadAverage } from "./peers/timing.ts";

const { values } = parseArgs({
  options: {
    against: { type: "string" },
    reps: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    bench: { type: "string", default: "layer,step" },
  },
});
const usage = "usage: deno task bench:compare --against <checkout> [--reps N] [--warmup N] " +
  "[--bench layer,step,classifier]";
if (!values.against) {
  console.error(`error: --against is required\n${usage}`);
  Deno.exit(2);
}
const other = resolve(values.against);
const otherCamtl = `${other}/bench/peers/camtl.ts`;
try {
  Deno.statSync(otherCamtl);
} catch {
  console.error(`error: ${otherCamtl} does not exist; pass a camtl checkout to --against`);
  Deno.exit(2);
}
const reps = Math.max(5, Number(values.reps)), warmup = Number(values.warmup);
const benches = values.bench!.split(",");

const here = await requestGpu();
const there = await (await import(pathToFileURL(`${other}/lib/gpu/device.ts`).href)).requestGpu();
const impls: Record<string, Impl> = {
  this: camtlImpl(here),
  against: (await import(pathToFileURL(otherCamtl).href)).camtlImpl(there),
};
console.log(
  `adapter "${here.adapter.description}"; load average ${loadAverage()}; ${warmup} warm-ups, median of ${reps}; against ${other}`,
);
console.log(`${"bench".padEnd(28)} ${"this ms".padStart(9)} ${"against ms".padStart(11)}  ratio`);

type Side = "this" | "against";

async function compare(name: string, make: (side: Side) => Case | Promise<Case>): Promise<void> {
  const cases: Record<string, Case> = {};
  for (const side of ["this", "against"] as const) cases[side] = await make(side);
  const s = await interleave(cases, warmup, reps);
  for (const c of Object.values(cases)) c.dispose();
  console.log(
    `${name.padEnd(28)} ${s.this.median.toFixed(1).padStart(9)} ` +
      `${s.against.median.toFixed(1).padStart(11)}  ${
        (s.against.median / s.this.median).toFixed(2)
      }×`,
  );
}

const layer: LayerShape = { B: 8, T: 128, H: 256, heads: 4, ffn: 1024 };
if (benches.includes("layer")) {
  await compare("layer fwd+bwd H=256 T=128", (side) => impls[side].bertLayer(layer));
}
if (benches.includes("step")) {
  await compare(
    "train step L=4 H=256 T=128",
    (side) => impls[side].trainStep!({ ...layer, layers: 4, classes: 2, vocab: 1000 }),
  );
}
if (benches.includes("classifier")) {
  // The older loader padded to the longest sentence: the same examples batched that way.
  const [batches, exact] = await classifierBatchSets(8, [PAD_MULTIPLE, 1]);
  const otherPads = "PAD_MULTIPLE" in
    await import(pathToFileURL(`${other}/lib/data/loader.ts`).href);
  const mods = { this: await loopModules(resolve(".")), against: await loopModules(other) };
  const gpus = { this: here, against: there };
  await compare("classifier step (SST-2)", (side) =>
    classifierLoop(
      mods[side],
      gpus[side],
      CLASSIFIER,
      side === "this" || otherPads ? batches : exact,
    ));
}
console.log(`load average after: ${loadAverage()}`);
