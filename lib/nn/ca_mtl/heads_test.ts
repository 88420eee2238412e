import assert from "node:assert/strict";
import { backward } from "../../autograd/backward.ts";
import { fromArray } from "../../autograd/tensor.ts";
import type { Gpu } from "../../gpu/device.ts";
import { type Batch, collateBatch } from "../../data/loader.ts";
import { FeatureSet } from "../../data/features.ts";
import type { FeatureExtras } from "../../data/feature_extras.ts";
import { numLabels } from "../../data/tasks.ts";
import { toFloat32 } from "../../io/host_tensor.ts";
import { uploadCollated } from "../bert/inputs.ts";
import { readModelWeights, saveModelFolder } from "../state_dict.ts";
import { caMtlTinyBert, checkSavedTasks, resolveTaskSpec } from "./config.ts";
import { freezeEncoderLayers } from "./freeze.ts";
import { CaMtl, type CaMtlEncoderModel, taskRowsOf } from "./model.ts";
import { caMtlConfigToJson, loadCaMtl, savedCaMtlFromJson } from "./pretrained.ts";
import { gpuTest } from "../../../tests/_util/gpu.ts";
import { Rng } from "../../../tests/_util/rng.ts";

const TASKS = ["rte", "wnut17", "squad", "copa", "wic"];
const TAGS = numLabels("wnut17");

function tinyModel(gpu: Gpu, seed = 5): CaMtl {
  return new CaMtl({
    architecture: "CA-MTL-base",
    bert: { ...caMtlTinyBert(120), hiddenSize: 32, numAttentionHeads: 4, intermediateSize: 64 },
    tasks: TASKS.map((name) => ({ name, numLabels: numLabels(name) })),
    maxSeqLength: 16,
  }, { seed }).materialize(gpu, seed);
}

/** A feature set of `lengths` random sequences for task `taskId`, with `extras`. */
function features(
  rng: Rng,
  taskId: number,
  lengths: number[],
  rest: { labels?: Int32Array; extras?: FeatureExtras },
): FeatureSet {
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((n, i) => offsets[i + 1] = offsets[i] + n);
  const total = offsets[lengths.length];
  const inputIds = Int32Array.from({ length: total }, () => 1 + Math.floor(rng.next() * 119));
  const key = {
    task: TASKS[taskId],
    taskId,
    split: "train",
    vocabHash: "test",
    doLowerCase: false,
    maxSeqLength: 16,
  };
  return new FeatureSet(key, {
    offsets,
    inputIds,
    tokenTypeIds: new Uint8Array(total),
    labels: rest.labels ?? null,
    skipped: 0,
    padId: 0,
    extras: rest.extras ?? null,
  });
}

/** One batch holding every head kind: classification, tags, answers, choices, marked spans. */
function mixedBatch(): Batch {
  const rng = new Rng(11);
  const tagLengths = [9, 6, 11];
  const tokenLabels = Int32Array.from(
    { length: 26 },
    () => rng.next() < 0.3 ? -100 : Math.floor(rng.next() * TAGS),
  );
  const sets = [
    features(rng, 0, [5, 7, 4], { labels: Int32Array.of(0, 1, 1) }),
    features(rng, 1, tagLengths, { extras: { tokenLabels } }),
    features(rng, 2, [12, 8, 10], {
      // 1000 clamps to T and is left out of the start loss; -2 clamps to 0 ([CLS]).
      extras: { startPositions: Int32Array.of(3, 0, 1000), endPositions: Int32Array.of(5, -2, 4) },
    }),
    features(rng, 3, [6, 7, 5, 9], { labels: Int32Array.of(1, 0), extras: { choices: 2 } }),
    features(rng, 4, [8, 9, 7], {
      labels: Int32Array.of(1, 0, 1),
      extras: { spanCount: 2, spans: Int32Array.of(1, 3, 5, 6, 2, 3, 4, 8, 1, 2, 3, 6) },
    }),
  ];
  // Rows interleave tasks, as a proportional or MT-Uncertainty batch does.
  const order = [[1, 0], [0, 0], [3, 0], [2, 0], [4, 0], [1, 1], [2, 1], [0, 1], [4, 1], [3, 1]];
  const items = order.map(([s, index]) => ({ features: sets[s], index }));
  items.push(
    ...[[0, 2], [1, 2], [2, 2], [4, 2]].map(([s, index]) => ({ features: sets[s], index })),
  );
  return collateBatch(items);
}

/** Mean cross-entropy of rows of `logits` (`[N, K]`, float64) against `labels`, -1 skipped. */
function meanCe(logits: ArrayLike<number>, K: number, labels: number[]): number {
  let total = 0, count = 0;
  labels.forEach((y, n) => {
    if (y < 0) return;
    const row = Array.from({ length: K }, (_, k) => logits[n * K + k]);
    const m = Math.max(...row);
    total += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[y];
    count++;
  });
  return total / count;
}

function close(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)),
    `${what}: ${got} vs ${want}`,
  );
}

gpuTest(
  "every head kind on one batch: shapes, rows and losses as HF computes them",
  async (gpu) => {
    const model = tinyModel(gpu).eval();
    const batch = mixedBatch();
    const T = batch.seqLen, slice = (t: number) => batch.tasks.find((s) => s.taskId === t)!;
    const out = model.forward(batch);
    const shape = (t: number) => out.logits.get(t)!.shape;
    assert.deepEqual(shape(0), [3, 2]);
    assert.deepEqual(shape(1), [3, T, TAGS]);
    assert.deepEqual(shape(2), [3, T, 2]);
    assert.deepEqual(shape(3), [2, 2]);
    assert.deepEqual(shape(4), [3, 2]);
    assert.deepEqual([...out.rows.get(3)!], [...slice(3).rows]);
    assert.equal(out.rows.get(3)!.length, 4);
    const read = async (t: number) => [...await out.logits.get(t)!.readFloat()];
    const loss = async (t: number) => (await out.taskLosses.get(t)!.readFloat())[0];

    const tags = slice(1).tokenLabels!;
    close(
      await loss(1),
      meanCe(
        await read(1),
        TAGS,
        [...tags].map((v) => v === -100 ? -1 : v),
      ),
      "tags",
    );

    const span = await read(2);
    const side = (k: number) => span.filter((_, i) => i % 2 === k);
    const clampSkip = (p: number) => (Math.min(Math.max(p, 0), T) === T ? -1 : Math.max(p, 0));
    const start = meanCe(side(0), T, [...slice(2).startPositions!].map(clampSkip));
    const end = meanCe(side(1), T, [...slice(2).endPositions!].map(clampSkip));
    close(await loss(2), (start + end) / 2, "span");

    close(await loss(3), meanCe(await read(3), 2, [...slice(3).labels!]), "choices");
    close(await loss(0), meanCe(await read(0), 2, [...slice(0).labels!]), "rte");
    const mean = (await Promise.all([0, 1, 2, 3, 4].map(loss))).reduce((a, b) => a + b) / 5;
    close((await out.loss!.readFloat())[0], mean, "batch loss");
    model.dispose();
  },
);

gpuTest(
  "a marked-span head reads [CLS]'s pooled state and the mean state of each span",
  async (gpu) => {
    const model = tinyModel(gpu).eval();
    const batch = mixedBatch();
    const own = batch.tasks.find((s) => s.taskId === 4)!;
    const logits = await model.forward(batch).logits.get(4)!.readFloat();
    const encoder = model.bert as CaMtlEncoderModel;
    const ids = fromArray(gpu, batch.taskIds, [batch.size], { dtype: "i32" });
    const encoded = encoder.forward(uploadCollated(gpu, batch), ids);
    const [seq, pooled] = [await encoded.sequence.readFloat(), await encoded.pooled.readFloat()];
    const weights = await readModelWeights(model);
    const W = toFloat32(weights.get("decoders.4.model.weight")!);
    const b = toFloat32(weights.get("decoders.4.model.bias")!);
    const C = 32, T = batch.seqLen;
    assert.equal(W.length, 2 * 3 * C, "the head maps [p, m_1, m_2] (3·C) to 2 classes");
    own.rows.forEach((r, i) => {
      const x = Array.from(pooled.subarray(r * C, r * C + C));
      for (let s = 0; s < 2; s++) {
        const [a, e] = [own.spans![i * 4 + 2 * s], own.spans![i * 4 + 2 * s + 1]];
        for (let c = 0; c < C; c++) {
          let m = 0;
          for (let t = a; t < e; t++) m += seq[(r * T + t) * C + c];
          x.push(m / (e - a));
        }
      }
      for (let k = 0; k < 2; k++) {
        const want = x.reduce((acc, v, j) => acc + v * W[k * 3 * C + j], b[k]);
        assert.ok(Math.abs(logits[i * 2 + k] - want) < 1e-5, `row ${i} class ${k}`);
      }
    });
    model.dispose();
  },
);

gpuTest(
  "backward reaches every head's parameters; freezing leaves the heads trainable",
  async (gpu) => {
    const model = tinyModel(gpu);
    freezeEncoderLayers(model.bert, "0-1", 4);
    const out = model.forward(mixedBatch());
    backward(out.loss!);
    for (const [name, p] of model.namedParameters()) {
      if (!name.startsWith("decoders.")) continue;
      assert.ok(p.trainable, `${name} stays trainable`);
      const g = await p.value.grad!.readFloat();
      assert.ok(g.some((v) => v !== 0), `${name} has a gradient`);
    }
    model.dispose();
  },
);

gpuTest("a task without its targets or spans is refused with the reason", (gpu) => {
  const model = tinyModel(gpu);
  const batch = mixedBatch();
  const spansless = { inputs: uploadCollated(gpu, batch), taskIds: batch.taskIds };
  assert.throws(() => model.forward(spansless), /task "wic": the batch carries none; it needs 2/);
  const tags = batch.tasks.map((s) =>
    s.taskId === 1 ? { ...s, tokenLabels: s.tokenLabels!.map((v, i) => i === 3 ? TAGS : v) } : s
  );
  assert.throws(
    () => model.forward({ ...batch, tasks: tags }),
    new RegExp(`token labels of "wnut17": value ${TAGS} at \\[0, 3\\] is outside \\[0, ${TAGS}\\)`),
  );
  const wide = batch.tasks.map((s) =>
    s.taskId === 4 ? { ...s, spans: s.spans!.map((v, i) => i === 3 ? 99 : v) } : s
  );
  assert.throws(
    () => model.forward({ ...batch, tasks: wide }),
    new RegExp(
      `span 1 of row 0 is \\[5, 99\\); a span is \\[start, end\\) with 0 <= start < end <= T = ${batch.seqLen}`,
    ),
  );
  const odd = batch.tasks.map((s) => s.taskId === 3 ? { ...s, rows: s.rows.subarray(0, 3) } : s);
  assert.throws(
    () => model.forward({ ...batch, tasks: odd }),
    /3 rows are not whole examples of 2/,
  );
  // Unlabelled slices (MT-Uncertainty scoring) give logits and no loss.
  const plain = batch.tasks.map((s) => ({ taskId: s.taskId, rows: s.rows, labels: null }));
  const scored = model.forward({ ...spansless, tasks: plain.filter((s) => s.taskId !== 4) });
  assert.equal(scored.loss, undefined);
  assert.equal(scored.logits.size, 4);
  model.dispose();
});

gpuTest("every token label ignored: a zero loss, not NaN", async (gpu) => {
  const model = tinyModel(gpu);
  const batch = mixedBatch();
  const tasks = batch.tasks.filter((s) => s.taskId === 1).map((s) => ({
    ...s,
    tokenLabels: s.tokenLabels!.map(() => -100),
  }));
  const out = model.forward({ ...batch, tasks });
  const [loss] = await out.loss!.readFloat();
  assert.ok(loss === 0, `loss ${loss}`);
  backward(out.loss!);
  const grad = await model.decoders.items[1].namedParameters()[0][1].value.grad!.readFloat();
  assert.ok(grad.every((v) => v === 0), "no label, no gradient");
  model.dispose();
});

gpuTest("the new heads save under HF-style keys and reload with their kinds", async (gpu) => {
  const model = tinyModel(gpu, 9).eval();
  const dir = await Deno.makeTempDir();
  await saveModelFolder(dir, model, caMtlConfigToJson(model.config));
  const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.deepEqual(json.camtl.tasks.map((t: { head: string }) => t.head), [
    "classification",
    "token-classification",
    "span-extraction",
    "multiple-choice",
    "classification",
  ]);
  assert.equal(json.camtl.tasks[4].markedSpans, 2);
  const { model: again } = await loadCaMtl(dir, { gpu, tasks: [], maxSeqLength: 128 });
  again.eval();
  const a = await readModelWeights(model), b = await readModelWeights(again);
  const shapes = Object.fromEntries(
    [...a].filter(([k]) => k.startsWith("decoders.")).map((
      [k, t],
    ) => [k, t.shape]),
  );
  assert.deepEqual(shapes, {
    "decoders.0.model.weight": [2, 32],
    "decoders.0.model.bias": [2],
    "decoders.1.classifier.weight": [TAGS, 32],
    "decoders.1.classifier.bias": [TAGS],
    "decoders.2.qa_outputs.weight": [2, 32],
    "decoders.2.qa_outputs.bias": [2],
    "decoders.3.classifier.weight": [1, 32],
    "decoders.3.classifier.bias": [1],
    "decoders.4.model.weight": [2, 96],
    "decoders.4.model.bias": [2],
  });
  for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, k);
  const batch = mixedBatch();
  const [x, y] = [model.forward(batch), again.forward(batch)];
  for (const t of [1, 2, 3, 4]) {
    assert.deepEqual(await y.logits.get(t)!.readFloat(), await x.logits.get(t)!.readFloat());
  }
  model.dispose();
  again.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a task's head kind comes from the registry unless given, and must fit its size", () => {
  assert.deepEqual(resolveTaskSpec({ name: "squad", numLabels: 2 }), {
    name: "squad",
    numLabels: 2,
    head: "span-extraction",
  });
  assert.deepEqual(resolveTaskSpec({ name: "wic", numLabels: 2 }).markedSpans, 2);
  assert.equal(
    resolveTaskSpec({ name: "wic", numLabels: 2, markedSpans: 0 }).markedSpans,
    undefined,
  );
  assert.equal(resolveTaskSpec({ name: "my-tags", numLabels: 5 }).head, "classification");
  assert.equal(
    resolveTaskSpec({ name: "my-tags", numLabels: 5, head: "token-classification" }).head,
    "token-classification",
  );
  assert.throws(
    () => resolveTaskSpec({ name: "qa", numLabels: 3, head: "span-extraction" }),
    /task "qa": numLabels is 3; a span-extraction head has 2/,
  );
  assert.throws(
    () =>
      resolveTaskSpec({ name: "t", numLabels: 2, head: "token-classification", markedSpans: 1 }),
    /markedSpans is 1; it is a count, for classification heads/,
  );
  assert.throws(
    () =>
      checkSavedTasks(
        [{ name: "wnut17", numLabels: TAGS, head: "token-classification" }],
        [{ name: "wnut17", numLabels: TAGS, head: "classification" }],
        "x/config.json",
      ),
    /saved with heads for wnut17 \(\d+ labels, token-classification\)/,
  );
});

Deno.test("a saved head record is checked, and one without a kind takes the registry's", () => {
  const record = (tasks: unknown[]) => ({
    camtl: { architecture: "CA-MTL-base", tasks, max_seq_length: 64 },
  });
  const read = (tasks: unknown[]) => savedCaMtlFromJson(record(tasks), "m/config.json");
  assert.throws(
    () => read([{ name: "qa", numLabels: 3, head: "span-extraction" }]),
    /Cannot read the camtl record of "m\/config.json": "tasks\[0\]" does not describe a head: .*numLabels is 3; a span-extraction head has 2/,
  );
  assert.throws(() => read([{ name: "x", numLabels: 2, head: "tagging" }]), /"tasks\[0\].head"/);
  const old = read([{ name: "squad", numLabels: 2 }])!;
  assert.equal(resolveTaskSpec(old.tasks[0]).head, "span-extraction");
});

Deno.test("taskRowsOf groups rows by task for unlabelled scoring", () => {
  assert.deepEqual(taskRowsOf(Int32Array.of(2, 0, 2)).map((s) => [...s.rows]), [[1], [0, 2]]);
});
