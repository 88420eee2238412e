import assert from "node:assert/strict";
import { numLabels } from "./glue_tasks.ts";
import type { Batch } from "./loader.ts";
import type { CandidateScorer } from "./mt_uncertainty.ts";
import {
  type MultiTaskSampler,
  SAMPLER_STATE_VERSION,
  type SamplerState,
  type SamplingMode,
} from "./sampler.ts";
import { createSampler } from "./samplers.ts";
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";

const MODES: readonly SamplingMode[] = ["sequential", "uniform", "proportional", "mt-uncertainty"];

const sets = (sizes = [10, 25, 7]) => [
  syntheticFeatures("cola", 0, sizes[0]),
  syntheticFeatures("mnli", 1, sizes[1]),
  syntheticFeatures("sts-b", 2, sizes[2]),
];

/**
 * A stand-in for the model: logits are a fixed function of (task, example), so the MT-U
 * selection is deterministic and independent of the process that computes it.
 */
const fakeScorer: CandidateScorer = (pool) =>
  pool.tasks.map((slice) => {
    const C = numLabels(slice.task);
    return Array.from(slice.rows).flatMap((r) =>
      Array.from(
        { length: C },
        (_, c) => Math.sin(pool.exampleIds[r] * 7.3 + c * 1.9 + slice.taskId),
      )
    );
  });

function make(mode: SamplingMode, options: { seed?: number; sizes?: number[] } = {}) {
  return createSampler(mode, sets(options.sizes), {
    batchSize: 4,
    seed: options.seed ?? 11,
    scorer: fakeScorer,
  });
}

/** What must match between two runs: every row's ids, task and example, or the epoch end. */
function fingerprint(b: Batch | null): string {
  if (b === null) return "end of epoch";
  return [b.inputIds, b.tokenTypeIds, b.attentionMask, b.taskIds, b.exampleIds]
    .map((a) => Array.from(a).join(",")).join("|");
}

async function draw(sampler: MultiTaskSampler, calls: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < calls; i++) out.push(fingerprint(await sampler.nextBatch()));
  return out;
}

const roundTrip = (s: SamplerState): SamplerState => JSON.parse(JSON.stringify(s));

Deno.test("every sampler resumed from a JSON state draws the batches and stats of an uninterrupted run", async () => {
  for (const mode of MODES) {
    const steps = make(mode).stepsPerEpoch;
    // Before the first batch, mid-epoch, on the last batch, on the epoch's null, mid-epoch 2.
    for (const k of [0, 3, steps - 1, steps, steps + 1, steps + 5]) {
      const m = steps + 4; // always crosses at least one epoch boundary
      const straight = make(mode);
      const expected = await draw(straight, k + m);
      const first = make(mode);
      await draw(first, k);
      const saved = roundTrip(first.saveState());
      const resumed = make(mode);
      resumed.loadState(saved);
      assert.deepEqual(resumed.stats(), first.stats(), `${mode} k=${k}: stats after loading`);
      const got = await draw(resumed, m);
      assert.deepEqual(got, expected.slice(k), `${mode} k=${k}: batches after loading`);
      assert.ok(got.includes("end of epoch"), `${mode} k=${k}: the run crosses an epoch end`);
      assert.deepEqual(resumed.stats(), straight.stats(), `${mode} k=${k}: stats at the end`);
      assert.deepEqual(resumed.saveState(), straight.saveState(), `${mode} k=${k}: final state`);
    }
  }
});

Deno.test("saveState() is plain JSON: no typed arrays, orders and bitmaps as base64", async () => {
  for (const mode of MODES) {
    const sampler = make(mode);
    await draw(sampler, 5);
    const state = sampler.saveState();
    assert.deepEqual(roundTrip(state), state, mode);
    assert.equal(state.version, SAMPLER_STATE_VERSION);
    assert.equal(state.mode, mode);
    assert.deepEqual(state.tasks.map((t) => [t.task, t.size]), [["cola", 10], ["mnli", 25], [
      "sts-b",
      7,
    ]]);
    const values: unknown[] = [state];
    while (values.length > 0) {
      const v = values.pop();
      assert.ok(!ArrayBuffer.isView(v), `${mode}: a typed array in the state`);
      if (typeof v === "object" && v !== null) values.push(...Object.values(v));
    }
    // 10 "seen" flags pack into 2 bytes: "xxx=" in base64.
    assert.match(state.tasks[0].seen, /^[A-Za-z0-9+/]{3}=$/);
  }
});

Deno.test("a resumed sampler's stats survive resetStats() and the MT-U candidate counts", async () => {
  const a = make("mt-uncertainty"), b = make("mt-uncertainty");
  await draw(a, 6);
  await draw(b, 6);
  a.resetStats();
  b.resetStats();
  await draw(a, 3);
  const resumed = make("mt-uncertainty");
  resumed.loadState(roundTrip(a.saveState()));
  await draw(b, 3);
  assert.deepEqual(resumed.stats(), b.stats());
  // Steps 7-9 score cola 4+4+2 (passes of 10), mnli 1+4+4 (its 7th pass batch is the last
  // of 25), sts-b 4+3+4 (passes of 7): counted since the reset, across the save.
  assert.deepEqual(resumed.stats().tasks.map((t) => t.candidates), [10, 9, 11]);
  assert.deepEqual(await draw(resumed, 5), await draw(b, 5));
});

Deno.test("the state of a 400k-example task stays compact and round-trips", async () => {
  const big = [syntheticFeatures("qqp", 0, 400_000, 4), syntheticFeatures("rte", 1, 50, 4)];
  const a = createSampler("sequential", big, { batchSize: 32, seed: 3 });
  await draw(a, 7);
  const text = JSON.stringify(a.saveState());
  // 400k int32 order = 1.6 MB → 2.13 MB base64, plus a 50 kB bitmap → 67 kB.
  assert.ok(text.length < 2.3e6, `${text.length} characters`);
  const b = createSampler("sequential", big, { batchSize: 32, seed: 3 });
  b.loadState(JSON.parse(text));
  assert.deepEqual(await draw(b, 3), await draw(a, 3));
});

Deno.test("loadState() refuses another mode, other tasks or sizes, other options, with TypeError", async () => {
  const seq = make("sequential");
  await draw(seq, 2);
  const state = roundTrip(seq.saveState());
  assert.throws(
    () => make("uniform").loadState(state),
    (e) =>
      e instanceof TypeError &&
      e.message ===
        `Cannot restore sampler state: it was saved by a "sequential" sampler, this one is "uniform"`,
  );
  assert.throws(
    () => make("sequential", { sizes: [10, 26, 7] }).loadState(state),
    (e) =>
      e instanceof TypeError &&
      e.message.startsWith("Cannot restore sampler state: it was saved for tasks") &&
      e.message.includes(`"mnli" (id 1, 25 examples)`) &&
      e.message.includes(`"mnli" (id 1, 26 examples)`),
  );
  assert.throws(
    () =>
      createSampler("sequential", [sets()[1], sets()[0], sets()[2]], { batchSize: 4, seed: 11 })
        .loadState(state),
    /Cannot restore sampler state: it was saved for tasks/,
  );
  assert.throws(
    () => createSampler("sequential", sets(), { batchSize: 5, seed: 11 }).loadState(state),
    /Cannot restore sampler state: "batchSize" is 4 there and 5 here/,
  );
  assert.throws(() => make("sequential", { seed: 12 }).loadState(state), /"seed" is 11/);
  assert.throws(
    () => make("sequential").loadState({ ...state, version: 99 }),
    /it has version 99, this code reads 1/,
  );
  const paper = createSampler("mt-uncertainty", sets(), {
    batchSize: 4,
    seed: 11,
    scorer: fakeScorer,
    scoreMode: "paper",
  });
  assert.throws(
    () => paper.loadState(make("mt-uncertainty").saveState()),
    /"scoreMode" is "code" there and "paper" here/,
  );
});

Deno.test("loadState() refuses a corrupt state and leaves the sampler unchanged", async () => {
  for (const mode of ["sequential", "proportional"] as const) {
    const victim = make(mode), twin = make(mode);
    await draw(victim, 3);
    await draw(twin, 3);
    const good = roundTrip(make(mode).saveState());
    const streams = good.modeState.streams as { order: string }[] | undefined;
    // Swap in an order that repeats an example: a valid base64 string, not a permutation.
    const repeat = new Uint8Array(4 * (streams ? 25 : 42)).toBase64();
    const bad = roundTrip(good);
    if (streams) (bad.modeState.streams as { order: string }[])[1].order = repeat;
    else bad.modeState.order = repeat;
    assert.throws(
      () => victim.loadState(bad),
      (e) => e instanceof TypeError && /is not a permutation of (25|42) examples/.test(e.message),
      mode,
    );
    assert.throws(() => victim.loadState({ ...good, steps: -1 }), /"steps" is -1/, mode);
    assert.throws(
      () => victim.loadState({ ...good, tasks: good.tasks.map((t) => ({ ...t, distinct: 1 })) }),
      /"tasks\[0\].distinct" is 1 but "seen" marks 0 examples/,
      mode,
    );
    assert.throws(() => victim.loadState(null as unknown as SamplerState), /"state" is null/);
    assert.deepEqual(victim.saveState(), twin.saveState(), `${mode}: unchanged`);
    assert.deepEqual(await draw(victim, 4), await draw(twin, 4), `${mode}: draws unchanged`);
  }
});

Deno.test("saveState() refuses while an MT-Uncertainty batch is being scored", async () => {
  let release = () => {};
  const sampler = createSampler("mt-uncertainty", sets(), {
    batchSize: 4,
    seed: 1,
    scorer: async (pool) => {
      await new Promise<void>((resolve) => release = resolve);
      return fakeScorer(pool);
    },
  });
  const pending = sampler.nextBatch();
  await Promise.resolve();
  assert.throws(() => sampler.saveState(), /Cannot save the "mt-uncertainty" sampler state/);
  release();
  assert.ok(await pending);
  assert.equal(sampler.saveState().steps, 1);
});
