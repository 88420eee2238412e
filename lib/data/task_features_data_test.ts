import assert from "node:assert/strict";
import { DATA_DIR, dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { taskDataPath } from "./data_layout.ts";
import { IGNORE_INDEX } from "./feature_extras.ts";
import type { FeatureSet } from "./features.ts";
import { bestAnswers } from "./span_answers.ts";
import { squadMetrics } from "./squad_metrics.ts";
import { readSuperGlueExamples } from "./superglue.ts";
import { loadTaskFeatures } from "./task_features.ts";
import { decodeOutputs, scoreTask } from "./task_outputs.ts";

const toy = BertTokenizer.fromVocab(
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "he", "won", "who", "?", ".", "the", "game"],
  { doLowerCase: true },
);

Deno.test("loadTaskFeatures() builds, caches and reloads any task, keyed on the window settings", async () => {
  const root = await Deno.makeTempDir({ prefix: "camtl-taskdata-" });
  const cacheDir = `${root}/cache`;
  try {
    await Deno.mkdir(`${root}/data/superglue/CB`, { recursive: true });
    await Deno.mkdir(`${root}/data/squad_v1.1`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/data/superglue/CB/val.jsonl`,
      JSON.stringify({ premise: "he won .", hypothesis: "who won ?", label: "neutral", idx: 0 }) +
        "\n",
    );
    const squad = {
      data: [{
        paragraphs: [{
          context: "he won the game .",
          qas: [{ id: "q", question: "who won ?", answers: [{ text: "he", answer_start: 0 }] }],
        }],
      }],
    };
    await Deno.writeTextFile(`${root}/data/squad_v1.1/dev-v1.1.json`, JSON.stringify(squad));
    const load = (task: string, docStride?: number) =>
      loadTaskFeatures({
        dataDir: `${root}/data`,
        task,
        taskId: 1,
        split: "dev",
        tokenizer: toy,
        maxSeqLength: 16,
        cacheDir,
        docStride,
      });
    const first = await load("cb");
    assert.deepEqual([first.fromCache, first.rebuildReason], [false, "no cache file"]);
    assert.deepEqual(Array.from(first.features.labels!), [2]);
    assert.deepEqual(first.features.meta, { ids: [0] });
    const again = await load("cb");
    assert.equal(again.fromCache, true);
    assert.deepEqual(again.features.meta, { ids: [0] });
    const span = await load("squad", 4);
    assert.match(span.cacheFile, /cached_dev_squad_task1_len16_stride4_query64_uncased_/);
    assert.equal((await load("squad", 4)).fromCache, true);
    assert.equal((await load("squad", 8)).fromCache, false, "another stride is another key");
    // With the data gone, a valid cache still serves.
    await Deno.remove(`${root}/data/superglue`, { recursive: true });
    assert.equal((await load("cb")).fromCache, true);
    await assert.rejects(() => load("copa"), /Cannot find the dev split of "copa"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

let uncased: BertTokenizer | null = null;
const cacheDir = Deno.makeTempDirSync({ prefix: "camtl-real-features-" });
globalThis.addEventListener("unload", () => Deno.removeSync(cacheDir, { recursive: true }));

/** Dev features of `task` from the shared data with bert-base-uncased, or null without it. */
async function realDev(task: string, sub: string, maxSeqLength = 128): Promise<FeatureSet | null> {
  if (!hasData("bert-base-uncased") || !hasData(sub)) return null;
  uncased ??= await BertTokenizer.fromFolder(dataPath("bert-base-uncased"));
  const options = { dataDir: DATA_DIR, taskId: 0, split: "dev", tokenizer: uncased, cacheDir };
  return (await loadTaskFeatures({ ...options, task, maxSeqLength })).features;
}

Deno.test("SQuAD dev features: windows hold their answers, and gold positions decode to the gold answers", async () => {
  const set = await realDev("squad", "squad_v1.1", 384);
  if (set === null) return;
  const x = set.extras!;
  assert.equal(set.meta!.ids!.length, 10570);
  assert.ok(set.size > 10570, "long contexts give several windows");
  const T = set.inputIds.length;
  const start = new Float32Array(T).fill(-5), end = new Float32Array(T).fill(-5);
  const seen = new Uint8Array(10570);
  for (let f = 0; f < set.size; f++) {
    const a = set.offsets[f], len = set.offsets[f + 1] - a;
    assert.ok(len <= 384);
    seen[x.exampleIndex![f]] = 1;
    const s = x.startPositions![f], e = x.endPositions![f];
    if (s === 0) continue;
    assert.ok(s <= e && e < len - 1 && x.charStarts![a + s] >= 0 && x.charStarts![a + e] >= 0);
    start[a + s] = 5;
    end[a + e] = 5;
  }
  assert.ok(seen.every((v) => v === 1), "every question has a window");
  const answers = bestAnswers(set, start, end, { maxAnswerLength: 1000 }).map((a) => a.text);
  const m = squadMetrics(answers, set.meta!.golds!);
  // Not 100: a few answers start or end inside a WordPiece token ("1985" in "1985-86").
  assert.ok(m.exact_match > 99.5 && m.f1 > 99.5, JSON.stringify(m));
});

Deno.test("WNUT-2017 dev features: gold tags decode back to themselves (F1 1 at 128 tokens)", async () => {
  const set = await realDev("wnut17", "wnut17");
  if (set === null) return;
  assert.equal(set.size, 1009);
  const labels = set.extras!.tokenLabels!;
  const logits = new Float32Array(labels.length * 13);
  labels.forEach((l, t) => logits[t * 13 + (l === IGNORE_INDEX ? 0 : l)] = 1);
  const m = scoreTask(set, decodeOutputs(set, { kind: "token-classification", logits }));
  assert.deepEqual(m, { precision: 1, recall: 1, f1: 1, accuracy: 1 });
});

Deno.test("WiC, WSC, COPA and MultiRC dev features mark the right tokens and shapes", async () => {
  const wic = await realDev("wic", "superglue");
  if (wic === null || uncased === null) return;
  const tokenizer = uncased;
  const path = await taskDataPath(DATA_DIR, "wic", "dev");
  const pieces = (ids: ArrayLike<number>) => tokenizer.decode(ids).replaceAll(" ", "");
  let i = 0;
  for await (const ex of readSuperGlueExamples({ task: "wic", path })) {
    const ids = wic.get(i).inputIds, spans = wic.extras!.spans!;
    ex.spans!.forEach((span, k) => {
      const text = (k === 0 ? ex.textA : ex.textB!).slice(span.start, span.end);
      const marked = ids.subarray(spans[4 * i + 2 * k], spans[4 * i + 2 * k + 1]);
      assert.equal(pieces(marked), pieces(tokenizer.tokenizeToIds(text)));
    });
    i++;
  }
  assert.equal(i, 638);
  assert.equal((await realDev("wsc", "superglue"))!.extras!.spans!.length, 104 * 4);
  const copa = (await realDev("copa", "superglue"))!;
  assert.deepEqual([copa.size, copa.choices, copa.offsets.length], [100, 2, 201]);
  const multirc = (await realDev("multirc", "superglue"))!;
  assert.equal(new Set(multirc.extras!.groups!).size, 953);
});
