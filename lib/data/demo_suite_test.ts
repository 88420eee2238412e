import assert from "node:assert/strict";
import { Rng } from "../../tests/_util/rng.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import {
  DEMO_TASK_NAMES,
  DEMO_TASKS,
  demoTask,
  type DemoTaskData,
  demoVocab,
  formatDemoSplit,
  generateDemoSuite,
  generateDemoTask,
  jointRating,
  registerDemoTasks,
  reviewRating,
  writeDemoSuite,
} from "./demo_suite.ts";
import { readGlueExamples } from "./glue.ts";
import type { GlueExample } from "./glue.ts";
import { accuracy, pearson } from "./metrics.ts";
import { getTask, taskMetrics } from "./tasks.ts";

const SMALL = { seed: 7, trainSize: 40, devSize: 10, testSize: 6 };
const FULL = generateDemoSuite({ seed: 12 });
const byName = (name: string): DemoTaskData => FULL.tasks.find((t) => t.task.name === name)!;

// ---- A bag-of-words baseline: linear models on sparse counts, trained by seeded SGD --------

type Sparse = Map<string, number>;

/** Words, with those after "not"/"never" marked `NOT_` up to the phrase end (Pang et al. 2002). */
function words(text: string, prefix = ""): string[] {
  let negated = false;
  const out: string[] = [];
  for (const word of text.replace(/([,.])/g, " $1 ").split(/\s+/).filter(Boolean)) {
    if (word === "not" || word === "never") negated = true;
    else if (["and", "but", ",", "."].includes(word)) negated = false;
    out.push(prefix + (negated ? "NOT_" : "") + word);
  }
  return out;
}

function counts(tokens: string[]): Sparse {
  const m: Sparse = new Map();
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

function fitLinear(
  xs: Sparse[],
  ys: number[],
  opts: { logistic: boolean; epochs: number; lr: number },
): (x: Sparse) => number {
  const w = new Map<string, number>();
  let b = 0;
  const score = (x: Sparse) => {
    let z = b;
    for (const [k, v] of x) z += (w.get(k) ?? 0) * v;
    return z;
  };
  const rng = new Rng(1);
  const order = xs.map((_, i) => i);
  for (let e = 0; e < opts.epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) {
      const z = score(xs[i]);
      const g = (opts.logistic ? 1 / (1 + Math.exp(-z)) : z) - ys[i];
      for (const [k, v] of xs[i]) w.set(k, (w.get(k) ?? 0) - opts.lr * g * v);
      b -= opts.lr * g;
    }
  }
  return score;
}

const labels = (xs: GlueExample[]) => xs.map((x) => x.label as number);

// ---- Tests -------------------------------------------------------------------------------

Deno.test("generateDemoSuite() gives the same examples for the same seed and others for another", () => {
  assert.deepEqual(generateDemoSuite(SMALL), generateDemoSuite(SMALL));
  const other = generateDemoSuite({ ...SMALL, seed: 8 });
  for (let k = 0; k < 3; k++) {
    assert.notDeepEqual(other.tasks[k].train, generateDemoSuite(SMALL).tasks[k].train);
  }
});

Deno.test("generateDemoTask() does not depend on which other tasks are generated", () => {
  const alone = generateDemoTask("demo-rating", SMALL);
  assert.deepEqual(alone, generateDemoSuite(SMALL).tasks[2]);
  const subset = generateDemoSuite({ ...SMALL, tasks: ["demo-rating"] });
  assert.deepEqual(subset.tasks.map((t) => t.task.name), ["demo-rating"]);
  assert.deepEqual(subset.tasks[0], alone);
});

Deno.test("generateDemoSuite() has the default sizes, line numbers and unlabelled test splits", () => {
  assert.deepEqual(FULL.tasks.map((t) => t.task.name), DEMO_TASK_NAMES);
  for (const { task, train, dev, test } of FULL.tasks) {
    assert.deepEqual([train.length, dev.length, test.length], [2000, 300, 200], task.name);
    assert.ok(test.every((x) => x.label === null), task.name);
    assert.ok([...train, ...dev].every((x) => typeof x.label === "number"), task.name);
    assert.ok(train.every((x, i) => x.line === i + 2), task.name);
    assert.equal(task.pair, train.every((x) => x.textB !== null));
  }
});

Deno.test("classification splits are exactly balanced and rating levels are spread out", () => {
  for (const name of ["demo-sentiment", "demo-comparison"]) {
    for (const split of [byName(name).train, byName(name).dev]) {
      assert.equal(split.filter((x) => x.label === 1).length, split.length / 2, name);
    }
  }
  const levels = new Map<number, number>();
  for (const x of byName("demo-rating").train) {
    levels.set(x.label!, (levels.get(x.label!) ?? 0) + 1);
  }
  assert.equal(levels.size, 9);
  for (const [level, n] of levels) assert.ok(n > 100 && n < 400, `level ${level}: ${n}`);
});

Deno.test("every label follows the task's rule from the text", () => {
  for (const x of byName("demo-sentiment").train) {
    assert.equal(x.label, reviewRating(x.textA) > 0 ? 1 : 0, x.textA);
  }
  for (const x of byName("demo-comparison").dev) {
    const a = reviewRating(x.textA), b = reviewRating(x.textB!);
    assert.notEqual(a, b);
    assert.equal(x.label, b > a ? 1 : 0);
  }
  for (const x of byName("demo-rating").dev) {
    assert.equal(x.label, jointRating(reviewRating(x.textA), reviewRating(x.textB!)));
  }
});

Deno.test("no text pair appears in two splits of a task", () => {
  for (const { task, train, dev, test } of FULL.tasks) {
    const key = (x: GlueExample) => `${x.textA}\t${x.textB}`;
    const seen = new Set(train.map(key));
    assert.equal(seen.size, train.length, task.name);
    for (const x of [...dev, ...test]) assert.ok(!seen.has(key(x)), `${task.name}: ${key(x)}`);
  }
});

Deno.test("the vocabulary tokenizes every text without [UNK] and within 64 tokens", () => {
  const vocab = demoVocab();
  assert.deepEqual(vocab.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  assert.equal(new Set(vocab).size, vocab.length);
  assert.ok(vocab.every((t) => t.startsWith("[") || t === t.toLowerCase()));
  const tok = BertTokenizer.fromVocab(vocab, { doLowerCase: FULL.doLowerCase });
  const used = new Set<number>();
  let longest = 0;
  for (const { train, dev, test } of FULL.tasks) {
    for (const x of [...train, ...dev, ...test]) {
      const ids = tok.encode(x.textA, x.textB ?? undefined).inputIds;
      assert.ok(!ids.includes(tok.unkId), `${x.textA} | ${x.textB}`);
      longest = Math.max(longest, ids.length);
      for (const id of ids) used.add(id);
    }
  }
  assert.ok(longest <= 64, `longest is ${longest}`);
  for (const piece of ["##s", "##ed", "##d"]) assert.ok(used.has(vocab.indexOf(piece)), piece);
});

Deno.test("a bag-of-words model with negation marking learns demo-sentiment (dev acc >= 0.85)", () => {
  const { train, dev } = byName("demo-sentiment");
  const f = fitLinear(train.map((x) => counts(words(x.textA))), labels(train), {
    logistic: true,
    epochs: 10,
    lr: 0.1,
  });
  const acc = accuracy(dev.map((x) => (f(counts(words(x.textA))) > 0 ? 1 : 0)), labels(dev));
  assert.ok(acc >= 0.85, `dev accuracy ${acc}`);
});

Deno.test("demo-sentiment needs negation: a negation-blind rating is wrong on some dev examples", () => {
  const { dev } = byName("demo-sentiment");
  const blind = dev.map((x) => (reviewRating(x.textA.replace(/\b(not|never) /g, "")) > 0 ? 1 : 0));
  const acc = accuracy(blind, labels(dev));
  assert.ok(acc < 0.97 && acc > 0.5, `negation-blind accuracy ${acc}`);
});

Deno.test("a bag-of-words model over both segments learns demo-comparison (dev acc >= 0.85)", () => {
  const { train, dev } = byName("demo-comparison");
  const x = (e: GlueExample) => counts([...words(e.textA, "A:"), ...words(e.textB!, "B:")]);
  const f = fitLinear(train.map(x), labels(train), { logistic: true, epochs: 10, lr: 0.1 });
  const acc = accuracy(dev.map((e) => (f(x(e)) > 0 ? 1 : 0)), labels(dev));
  assert.ok(acc >= 0.85, `dev accuracy ${acc}`);
  // One segment alone is not enough.
  const onlyB = (e: GlueExample) => counts(words(e.textB!, "B:"));
  const g = fitLinear(train.map(onlyB), labels(train), { logistic: true, epochs: 10, lr: 0.1 });
  const accB = accuracy(dev.map((e) => (g(onlyB(e)) > 0 ? 1 : 0)), labels(dev));
  assert.ok(accB < acc - 0.05, `B alone ${accB}, both ${acc}`);
});

Deno.test("a bag-of-words linear regression learns demo-rating (dev Pearson >= 0.85)", () => {
  const { train, dev } = byName("demo-rating");
  const x = (e: GlueExample) => counts([...words(e.textA), ...words(e.textB!)]);
  const f = fitLinear(train.map(x), labels(train), { logistic: false, epochs: 10, lr: 0.01 });
  const r = pearson(dev.map((e) => f(x(e))), labels(dev));
  assert.ok(r >= 0.85, `dev Pearson ${r}`);
  const m = demoTask("demo-rating").metrics(dev.map((e) => f(x(e))), labels(dev));
  assert.deepEqual(Object.keys(m), [...demoTask("demo-rating").metricKeys]);
});

Deno.test("demoTask() describes each task as its GLUE twin and rejects unknown names", () => {
  registerDemoTasks();
  assert.deepEqual(DEMO_TASK_NAMES.map((n) => getTask(n).numLabels), [2, 2, 1]);
  assert.equal(getTask("demo-rating").labels, null);
  assert.deepEqual(DEMO_TASKS.map((t) => [t.glueTask, t.numLabels]), [
    ["sst-2", 2],
    ["mrpc", 2],
    ["sts-b", 1],
  ]);
  const m = taskMetrics("demo-comparison", [1, 0, 1, 1], [1, 0, 0, 1]);
  assert.deepEqual(m, { acc: 0.75, f1: 0.8, acc_and_f1: 0.775 });
  assert.throws(() => demoTask("sst-2"), RangeError);
  assert.throws(() => generateDemoSuite({ trainSize: 1 }), RangeError);
  assert.throws(() => generateDemoSuite({ devSize: 2.5 }), RangeError);
});

Deno.test("writeDemoSuite() writes GLUE-layout files that readGlueExamples() reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { files, suite } = await writeDemoSuite(dir, { ...SMALL, folders: "glue" });
    assert.equal(files.length, 11);
    for (const data of suite.tasks) {
      for (const split of ["train", "dev", "test"] as const) {
        const back = [];
        const ref = { dataDir: dir, task: data.task.glueTask, split };
        for await (const x of readGlueExamples(ref)) back.push(x);
        assert.deepEqual(back, data[split], `${data.task.name} ${split}`);
      }
    }
    assert.deepEqual(
      (await Deno.readTextFile(`${dir}/vocab.txt`)).trimEnd().split("\n"),
      suite.vocab,
    );
    assert.match(await Deno.readTextFile(`${dir}/README.txt`), /synthetic/i);
    const names = [];
    for await (const e of Deno.readDir(`${dir}/SST-2`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["dev.tsv", "test.tsv", "train.tsv"]); // no temporary files left
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeDemoSuite() names folders after the demo tasks by default", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const suite = generateDemoSuite(SMALL);
    const { files } = await writeDemoSuite(`${dir}/demo`, { suite });
    assert.ok(files.includes(`${dir}/demo/demo-comparison/dev.tsv`));
    const text = await Deno.readTextFile(`${dir}/demo/demo-rating/train.tsv`);
    assert.equal(text, formatDemoSplit(suite.tasks[2], "train"));
    assert.equal(text.split("\n")[0].split("\t").length, 10); // the STS-B header
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
