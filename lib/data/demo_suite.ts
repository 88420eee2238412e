/**
 * The embedded demo: a synthetic multi-task suite in GLUE form, generated deterministically
 * from a seed, so that `deno task train` with no data shows the whole pipeline learning.
 *
 * The data is synthetic. Three tasks, each shaped like the GLUE task it mirrors (its "twin":
 * same label list, head size, file columns and metrics), over a fixed lower-case vocabulary
 * of about 220 words plus the WordPiece suffixes `##s`, `##ed` and `##d`. Every text is a
 * short review whose rating is the sum of its opinion words (mild ±1, strong ±2), each
 * flipped by a "not" or "never" before it; neutral clauses about six topics fill it out.
 *
 * | task              | twin    | input | label                                         |
 * | ----------------- | ------- | ----- | --------------------------------------------- |
 * | `demo-sentiment`  | `sst-2` | A     | 1 when A's rating is above 0 (never 0)        |
 * | `demo-comparison` | `mrpc`  | A, B  | 1 when B is rated higher than A (never a tie) |
 * | `demo-rating`     | `sts-b` | A, B  | 2.5 + 0.625·(rating A + rating B), in [0, 5]  |
 *
 * The rules are exact, so a model that learns them can score near 1. Sentiment needs word
 * order (negation); the pair tasks need both segments (comparison tells them apart by token
 * type). They combine a quantity each sentence carries rather than match words across the
 * pair: in a PyTorch check, a random-init tiny BERT (hidden 128, 4 layers) did not learn
 * word matching (lexical paraphrase, overlap similarity) within 800 steps. On this suite the
 * same model, trained round-robin with batch 32, AdamW at lr 1e-3 (2e-3 stalls), 10 %
 * warm-up and linear decay, reached dev accuracy 0.93 / 0.94 and Pearson 0.92 after 600
 * steps; after 300 steps two seeds gave 0.93 / 0.71 / 0.73 and 0.91 / 0.82 / 0.87.
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import {
  comparisonExample,
  demoVocab,
  jointRating,
  ratingExample,
  reviewRating,
  sentimentExample,
} from "./_demo_grammar.ts";
import { SeededRng } from "./rng.ts";
import type { GlueExample, GlueSplit } from "./glue.ts";
import { GLUE_FOLDERS, GLUE_LABELS, GLUE_LAYOUTS, type GlueTaskName } from "./glue_tasks.ts";
import { glueComputeMetrics, type GlueMetrics } from "./metrics.ts";
import { registerTask, type TaskDefinition } from "./tasks.ts";

export { demoVocab, jointRating, reviewRating };

/** Names of the demo tasks, in their default `--tasks` order. */
export type DemoTaskName = "demo-sentiment" | "demo-comparison" | "demo-rating";

/** A demo task: its registry definition plus what the CLI and README show about it. */
export interface DemoTask extends TaskDefinition {
  /** The demo task's name, also its `--tasks` name. */
  name: DemoTaskName;
  /** The GLUE task with the same labels, head size, file columns and metrics. */
  glueTask: GlueTaskName;
  /** Whether examples have a second text. */
  pair: boolean;
  /** Keys its `metrics` returns (those of the twin in `glueComputeMetrics`). */
  metricKeys: readonly string[];
  /** The key the demo's "well above chance" check reads (`acc` or `pearson`). */
  mainMetric: string;
  /** One line for help texts and README files. */
  description: string;
}

function demo(
  name: DemoTaskName,
  glueTask: GlueTaskName,
  rest: Pick<DemoTask, "pair" | "metricKeys" | "mainMetric" | "description">,
): DemoTask {
  const labels = glueTask === "sts-b" ? null : GLUE_LABELS[glueTask];
  // One function per task, so that registering twice finds the same definition.
  const metrics = (preds: ArrayLike<number>, gold: ArrayLike<number>): GlueMetrics =>
    glueComputeMetrics(glueTask, preds, gold);
  return Object.freeze({
    name,
    glueTask,
    labels,
    numLabels: labels?.length ?? 1,
    metrics,
    glueTwin: glueTask,
    ...rest,
  });
}

/** The demo tasks, in their default order (which fixes task ids 0, 1, 2). */
export const DEMO_TASKS: readonly DemoTask[] = Object.freeze([
  demo("demo-sentiment", "sst-2", {
    pair: false,
    metricKeys: ["acc"],
    mainMetric: "acc",
    description: "single sentence, 2 classes: is the review positive (negation flips a word)",
  }),
  demo("demo-comparison", "mrpc", {
    pair: true,
    metricKeys: ["acc", "f1", "acc_and_f1"],
    mainMetric: "acc",
    description: "sentence pair, 2 classes: is review B rated higher than review A",
  }),
  demo("demo-rating", "sts-b", {
    pair: true,
    metricKeys: ["pearson", "spearmanr", "corr"],
    mainMetric: "pearson",
    description: "sentence pair, regression in [0, 5]: the two reviews' ratings summed",
  }),
]);

/** The demo tasks' names, in order. */
export const DEMO_TASK_NAMES: readonly DemoTaskName[] = Object.freeze(
  DEMO_TASKS.map((t) => t.name),
);

/**
 * Looks a demo task up by name.
 *
 * @throws {RangeError} Naming the demo tasks when `name` is not one of them.
 */
export function demoTask(name: string): DemoTask {
  const found = DEMO_TASKS.find((t) => t.name === name);
  if (!found) {
    throw new RangeError(
      `Cannot use demo task "${name}": unknown task; demo tasks are ${
        DEMO_TASK_NAMES.map((n) => `"${n}"`).join(", ")
      }`,
    );
  }
  return found;
}

/**
 * Registers the demo tasks with the task registry (`tasks.ts`), so that `buildFeatures`,
 * the samplers and `taskMetrics` accept them. Safe to call any number of times;
 * {@linkcode generateDemoSuite} calls it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerDemoTasks } from "./demo_suite.ts";
 * import { numLabels } from "./tasks.ts";
 * registerDemoTasks();
 * assert.equal(numLabels("demo-rating"), 1);
 * ```
 */
export function registerDemoTasks(): void {
  for (const t of DEMO_TASKS) registerTask(t);
}

// ---- Suite -------------------------------------------------------------------------------

/** Sizes and seed of a generated suite. */
export interface DemoSuiteOptions {
  /** Seed of every random choice. Default 12 (the released run's seed). */
  seed?: number;
  /** Training examples per task. Default 2000. */
  trainSize?: number;
  /** Dev examples per task. Default 300. */
  devSize?: number;
  /** Test (unlabelled) examples per task. Default 200. */
  testSize?: number;
  /** Tasks to generate, default all of {@linkcode DEMO_TASK_NAMES}. */
  tasks?: readonly string[];
}

/** One demo task's three splits, as GLUE examples (test labels are null). */
export interface DemoTaskData {
  /** The task (registered in the task registry by the time the data exists). */
  task: DemoTask;
  /** Labelled training examples (`trainSize` of them). */
  train: GlueExample[];
  /** Labelled dev examples (`devSize`), distinct from the training texts. */
  dev: GlueExample[];
  /** Unlabelled test examples (`testSize`). */
  test: GlueExample[];
}

/** A generated suite: the vocabulary and every task's splits. */
export interface DemoSuite {
  /** The seed the suite was generated from. */
  seed: number;
  /** Tokens for `BertTokenizer.fromVocab` (lower-cased text). */
  vocab: string[];
  /** Always true: the texts are lower case, so the tokenizer lower-cases. */
  doLowerCase: true;
  /** Each task's splits, in the order of `options.tasks`. */
  tasks: DemoTaskData[];
}

function checkSize(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot generate the demo suite: "${name}" is ${value}, expected an integer >= ${min}`,
    );
  }
  return value;
}

function makeSplit(
  r: SeededRng,
  size: number,
  make: (i: number) => [string, string | null, number],
  seen: Set<string>,
  labelled: boolean,
): GlueExample[] {
  const rows: [string, string | null, number][] = [];
  while (rows.length < size) {
    const row = make(rows.length);
    const key = `${row[0]}\t${row[1] ?? ""}`;
    if (seen.has(key)) continue; // no text repeats across splits
    seen.add(key);
    rows.push(row);
  }
  r.shuffle(rows as unknown as { length: number; [i: number]: number });
  // Line numbers are the ones the written TSV has: line 1 is the header.
  return rows.map(([textA, textB, label], i) => ({
    line: i + 2,
    textA,
    textB,
    label: labelled ? label : null,
  }));
}

/**
 * Generates one demo task. Each task draws from its own stream of the seed, so a task's data
 * does not depend on which other tasks are generated.
 *
 * @throws {RangeError} For an unknown task or a size below 2 (train, dev) or 1 (test).
 */
export function generateDemoTask(name: string, options: DemoSuiteOptions = {}): DemoTaskData {
  const t = demoTask(name);
  registerDemoTasks();
  const seed = options.seed ?? 12;
  const sizes = {
    train: checkSize("trainSize", options.trainSize ?? 2000, 2),
    dev: checkSize("devSize", options.devSize ?? 300, 2),
    test: checkSize("testSize", options.testSize ?? 200, 1),
  };
  const r = new SeededRng(seed, 1000 + DEMO_TASK_NAMES.indexOf(t.name));
  const make = (i: number): [string, string | null, number] =>
    t.name === "demo-sentiment"
      ? sentimentExample(r, i % 2)
      : t.name === "demo-comparison"
      ? comparisonExample(r, i % 2)
      : ratingExample(r);
  const seen = new Set<string>();
  const split = (s: GlueSplit) => makeSplit(r, sizes[s], make, seen, s !== "test");
  return { task: t, train: split("train"), dev: split("dev"), test: split("test") };
}

/**
 * Generates the embedded demo suite: three small synthetic tasks shaped like SST-2
 * (`demo-sentiment`), MRPC (`demo-comparison`) and STS-B (`demo-rating`), with a vocabulary
 * that covers every word, so that CA-MTL can be trained end to end without downloads.
 * `runTraining({ demo: true })` trains on it; the same seed always gives the same texts.
 *
 * @example Tokenizer and examples
 * ```ts
 * import assert from "node:assert/strict";
 * import { BertTokenizer } from "../text/tokenizer.ts";
 * import { generateDemoSuite } from "./demo_suite.ts";
 * const suite = generateDemoSuite({ seed: 1, trainSize: 20, devSize: 4, testSize: 2 });
 * const tok = BertTokenizer.fromVocab(suite.vocab, { doLowerCase: suite.doLowerCase });
 * const ex = suite.tasks[1].train[0];
 * assert.ok(!tok.tokenize(`${ex.textA} ${ex.textB}`).includes("[UNK]"));
 * assert.equal(suite.tasks[2].dev.length, 4);
 * ```
 * @throws {RangeError} As {@linkcode generateDemoTask}.
 */
export function generateDemoSuite(options: DemoSuiteOptions = {}): DemoSuite {
  const names = options.tasks ?? DEMO_TASK_NAMES;
  return {
    seed: options.seed ?? 12,
    vocab: demoVocab(),
    doLowerCase: true,
    tasks: names.map((n) => generateDemoTask(n, options)),
  };
}

// ---- Files -------------------------------------------------------------------------------

/** Options for {@linkcode writeDemoSuite}. */
export interface WriteDemoSuiteOptions extends DemoSuiteOptions {
  /** A suite already generated (then the generation options are ignored). */
  suite?: DemoSuite;
  /**
   * Folder names: `"demo"` (default) names each folder after its demo task
   * (`demo-sentiment/`); `"glue"` uses the twin's GLUE folder (`SST-2/`), so that
   * `readGlueExamples({ dataDir: dir, task: "sst-2", split })` reads them.
   */
  folders?: "demo" | "glue";
}

/** What {@linkcode writeDemoSuite} wrote. */
export interface DemoSuiteFiles {
  dir: string;
  /** Every file written, `vocab.txt` and `README.txt` included. */
  files: string[];
  suite: DemoSuite;
}

// Header cells of the twins' files (the readers only count them).
const HEADERS: Record<string, { labelled: string; test: string }> = {
  "sst-2": { labelled: "sentence label", test: "index sentence" },
  "mrpc": {
    labelled: "Quality|#1 ID|#2 ID|#1 String|#2 String",
    test: "index|#1 ID|#2 ID|#1 String|#2 String",
  },
  "sts-b": {
    labelled: "index genre filename year old_index source1 source2 sentence1 sentence2 score",
    test: "index genre filename year old_index source1 source2 sentence1 sentence2",
  },
};

/** The TSV text of one split of a task, in the column layout of the task's GLUE twin. */
export function formatDemoSplit(data: DemoTaskData, split: GlueSplit): string {
  const { task, [split]: examples } = data;
  const layout = GLUE_LAYOUTS[task.glueTask][split];
  const head = HEADERS[task.glueTask][layout.label === null ? "test" : "labelled"];
  const header = head.split(head.includes("|") ? "|" : " ");
  const lines = [header.join("\t")];
  examples.forEach((ex, i) => {
    const cells = header.map(() => String(i));
    cells[layout.textA] = ex.textA;
    if (layout.textB !== null) cells[layout.textB] = ex.textB ?? "";
    if (layout.label !== null) {
      const col = layout.label < 0 ? cells.length + layout.label : layout.label;
      if (ex.label === null) {
        throw new TypeError(`Cannot write "${task.name}" ${split}: example ${i} has no label`);
      }
      cells[col] = task.labels === null ? ex.label.toFixed(3) : task.labels[ex.label];
    }
    lines.push(cells.join("\t"));
  });
  return lines.join("\n") + "\n";
}

function readme(suite: DemoSuite): string {
  const lines = [
    `Synthetic demo data generated by camtl (seed ${suite.seed}). It is not GLUE.`,
    "Each task copies the file layout, labels and metrics of a GLUE task (its twin):",
    "",
    ...suite.tasks.map(({ task: t, train, dev, test }) =>
      `${t.name} (twin ${t.glueTask}): ${t.description}; ` +
      `${train.length} train, ${dev.length} dev, ${test.length} test`
    ),
    "",
    "vocab.txt is the matching lower-case WordPiece vocabulary.",
  ];
  return lines.join("\n") + "\n";
}

/**
 * Writes the demo suite as TSV folders in GLUE layout, plus `vocab.txt` and a `README.txt`
 * that says the data is synthetic. Each file is written atomically (temporary file, then
 * rename), so a reader never sees half a file.
 *
 * @param dir The folder to write into (created if missing; existing files are replaced).
 * @param options Generation options, or a ready `suite`; `folders` picks the folder names.
 * @returns The files written and the suite.
 * @throws {RangeError} As {@linkcode generateDemoTask}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeDemoSuite } from "./demo_suite.ts";
 * const dir = await Deno.makeTempDir();
 * const { files } = await writeDemoSuite(dir, { trainSize: 10, devSize: 4, testSize: 2 });
 * assert.ok(files.includes(`${dir}/demo-sentiment/train.tsv`));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeDemoSuite(
  dir: string,
  options: WriteDemoSuiteOptions = {},
): Promise<DemoSuiteFiles> {
  const suite = options.suite ?? generateDemoSuite(options);
  const files: string[] = [];
  await Deno.mkdir(dir, { recursive: true });
  for (const data of suite.tasks) {
    const t = data.task;
    const folder = `${dir}/${options.folders === "glue" ? GLUE_FOLDERS[t.glueTask] : t.name}`;
    await Deno.mkdir(folder, { recursive: true });
    for (const split of ["train", "dev", "test"] as const) {
      const path = `${folder}/${GLUE_LAYOUTS[t.glueTask][split].file}`;
      await writeTextAtomic(path, formatDemoSplit(data, split));
      files.push(path);
    }
  }
  await writeTextAtomic(`${dir}/vocab.txt`, suite.vocab.join("\n") + "\n");
  await writeTextAtomic(`${dir}/README.txt`, readme(suite));
  files.push(`${dir}/vocab.txt`, `${dir}/README.txt`);
  return { dir, files, suite };
}
