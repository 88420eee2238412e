/**
 * Feature-building throughput on SST-2 train (67,349 examples, bert-base-cased vocabulary,
 * max_seq_length 128): reading and tokenizing from the TSV (cold, the baseline) against
 * loading the binary feature cache. Reading the TSV without tokenizing is shown too, to
 * separate parsing from WordPiece.
 *
 * - `deno bench -P bench/data_bench.ts`: Deno's timing, with the cache's speedup as the
 *   group's "x faster than" line.
 * - `deno run -R -W -E bench/data_bench.ts`: prints examples/s for each path and the speedup,
 *   median of 5 runs.
 *
 * Needs the shared data (`glue/SST-2`, `bert-base-cased`); skips with a message otherwise.
 *
 * @module
 */

import { loadGlueFeatures } from "../lib/data/cache.ts";
import { buildGlueFeatures } from "../lib/data/features.ts";
import { readGlueExamples } from "../lib/data/glue.ts";
import { BertTokenizer } from "../lib/text/tokenizer.ts";
import { dataPath, hasData } from "../tests/_util/data.ts";

const ready = hasData("glue/SST-2") && hasData("bert-base-cased");
const tokenizer = ready ? await BertTokenizer.fromFolder(dataPath("bert-base-cased")) : null;
const cacheDir = await Deno.makeTempDir({ prefix: "data_bench_" });
globalThis.addEventListener("unload", () => Deno.removeSync(cacheDir, { recursive: true }));

const options = () => ({
  dataDir: dataPath("glue"),
  task: "sst-2",
  taskId: 6,
  split: "train",
  tokenizer: tokenizer!,
  maxSeqLength: 128,
  cacheDir,
});

async function cold(): Promise<number> {
  return (await buildGlueFeatures(options())).size;
}

async function readOnly(): Promise<number> {
  let n = 0;
  for await (
    const _ of readGlueExamples({ dataDir: dataPath("glue"), task: "sst-2", split: "train" })
  ) n++;
  return n;
}

async function cached(): Promise<number> {
  const got = await loadGlueFeatures(options());
  if (!got.fromCache) {
    throw new Error(`Cannot bench the cache: it was rebuilt (${got.rebuildReason})`);
  }
  return got.features.size;
}

if (ready) await loadGlueFeatures(options()); // write the cache once

Deno.bench({
  name: "sst-2 train: read + tokenize (cold)",
  group: "features",
  baseline: true,
  ignore: !ready,
  n: 5,
  warmup: 1,
  fn: async () => void await cold(),
});

Deno.bench({
  name: "sst-2 train: load cache",
  group: "features",
  ignore: !ready,
  fn: async () => void await cached(),
});

Deno.bench({
  name: "sst-2 train: read TSV only",
  group: "features",
  ignore: !ready,
  fn: async () => void await readOnly(),
});

async function median(fn: () => Promise<number>, runs: number): Promise<[number, number]> {
  const times: number[] = [];
  let n = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    n = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return [times[runs >> 1], n];
}

if (import.meta.main) {
  if (!ready) {
    console.log("SKIP: SST-2 or bert-base-cased missing from the shared data");
  } else {
    const rate = (n: number, ms: number) =>
      `${Math.round(n / (ms / 1000)).toLocaleString("en-US")} examples/s`;
    const [tCold, n] = await median(cold, 5);
    const [tRead] = await median(readOnly, 5);
    const [tCache] = await median(cached, 5);
    console.log(`SST-2 train, ${n} examples, max_seq_length 128, median of 5 runs`);
    console.log(`  cold (read + tokenize): ${tCold.toFixed(1)} ms  ${rate(n, tCold)}`);
    console.log(`  read TSV only:          ${tRead.toFixed(1)} ms  ${rate(n, tRead)}`);
    console.log(`  from cache:             ${tCache.toFixed(1)} ms  ${rate(n, tCache)}`);
    console.log(`  cache speedup over cold: ${(tCold / tCache).toFixed(1)}x`);
  }
}
