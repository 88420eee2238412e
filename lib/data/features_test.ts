import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { buildFeatures, buildGlueFeatures, FeatureSet } from "./features.ts";
import { loadGlueExamples } from "./glue.ts";
import { SYNTHETIC, writeSyntheticGlue } from "./_synthetic_glue.ts";

const ready = hasData("glue") && hasData("bert-base-cased");
const tokenizer = ready ? await BertTokenizer.fromFolder(dataPath("bert-base-cased")) : null;

Deno.test({
  name: "buildFeatures() stores exactly what the tokenizer encodes, unpadded",
  ignore: !ready,
  async fn() {
    const { examples } = await loadGlueExamples({
      dataDir: dataPath("glue"),
      task: "rte",
      split: "dev",
    });
    const set = await buildFeatures(examples, {
      tokenizer: tokenizer!,
      task: "rte",
      taskId: 2,
      split: "dev",
      maxSeqLength: 128,
    });
    assert.equal(set.size, 277);
    assert.ok(set.labels instanceof Int32Array);
    assert.equal(set.padId, 0);
    assert.equal(set.numLabels, 2);
    assert.deepEqual(set.key, {
      task: "rte",
      taskId: 2,
      split: "dev",
      vocabHash: tokenizer!.vocabHash,
      doLowerCase: false,
      maxSeqLength: 128,
    });
    let truncated = 0;
    for (const i of [0, 1, 17, 276]) {
      const ex = examples[i];
      const enc = tokenizer!.encode(ex.textA, ex.textB!, { maxLength: 128 });
      const f = set.get(i);
      assert.deepEqual(Array.from(f.inputIds), enc.inputIds);
      assert.deepEqual(Array.from(f.tokenTypeIds), enc.tokenTypeIds);
      assert.equal(f.length, enc.inputIds.length);
      assert.equal(f.label, ex.label);
      assert.equal(f.taskId, 2);
    }
    for (let i = 0; i < set.size; i++) {
      assert.ok(set.length(i) <= 128);
      if (set.length(i) === 128) truncated++;
      assert.equal(set.inputIds[set.offsets[i]], 101); // [CLS]
      assert.equal(set.inputIds[set.offsets[i + 1] - 1], 102); // [SEP]
    }
    assert.ok(truncated > 0, "RTE dev has examples longer than 128 tokens");
  },
});

Deno.test({
  name: "STS-B scores stay floats, test splits have no labels",
  ignore: !ready,
  async fn() {
    const dev = await buildGlueFeatures({
      dataDir: dataPath("glue"),
      tokenizer: tokenizer!,
      task: "sts-b",
      taskId: 5,
      split: "dev",
      maxSeqLength: 64,
    });
    const { examples } = await loadGlueExamples({
      dataDir: dataPath("glue"),
      task: "sts-b",
      split: "dev",
    });
    assert.ok(dev.labels instanceof Float32Array);
    assert.equal(dev.numLabels, 1);
    let fractional = 0;
    examples.forEach((ex, i) => {
      assert.equal(dev.labels![i], Math.fround(ex.label!));
      if (!Number.isInteger(ex.label)) fractional++;
    });
    assert.ok(fractional > 500, `${fractional} fractional scores`);
    const test = await buildGlueFeatures({
      dataDir: dataPath("glue"),
      tokenizer: tokenizer!,
      task: "sts-b",
      taskId: 5,
      split: "test",
      maxSeqLength: 64,
    });
    assert.equal(test.size, 1379);
    assert.equal(test.labels, null);
    assert.equal(test.get(3).label, null);
  },
});

Deno.test({
  name: "buildGlueFeatures() records the QQP rows it skipped",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await writeSyntheticGlue(dir);
      const set = await buildGlueFeatures({
        dataDir: dir,
        tokenizer: tokenizer!,
        task: "qqp",
        taskId: 4,
        split: "train",
        maxSeqLength: 32,
      });
      assert.equal(set.size, SYNTHETIC.qqpTrain);
      assert.equal(set.skipped, SYNTHETIC.qqpShortRows);
      assert.deepEqual(Array.from(set.labels!.subarray(0, 4)), [0, 1, 0, 1]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("FeatureSet rejects arrays that disagree and out-of-range indices", () => {
  const key = {
    task: "cola",
    taskId: 0,
    split: "train",
    vocabHash: "h",
    doLowerCase: false,
    maxSeqLength: 8,
  };
  const arrays = {
    offsets: new Int32Array([0, 2, 5]),
    inputIds: new Int32Array(5),
    tokenTypeIds: new Uint8Array(5),
    labels: new Int32Array([0, 1]),
    skipped: 0,
    padId: 0,
  };
  const set = new FeatureSet(key, arrays);
  assert.equal(set.length(1), 3);
  assert.throws(() => set.get(2), RangeError);
  assert.throws(() => new FeatureSet(key, { ...arrays, inputIds: new Int32Array(4) }), TypeError);
  assert.throws(() => new FeatureSet(key, { ...arrays, labels: new Int32Array(3) }), TypeError);
});
