/**
 * The tasks beyond GLUE that CA-MTL's 24-task setting adds: SuperGLUE (`boolq`, `cb`, `copa`,
 * `multirc`, `superglue-rte`, `wic`, `wsc` and the diagnostics `ax-b`, `ax-g`), WNUT-2017 named
 * entities (`wnut17`) and extractive question answering (`squad` from the SQuAD v1.1 JSON,
 * `mrqa-squad` from MRQA's release of the same questions). Their registry definitions (head
 * kind, labels, metrics) and their files, split by split.
 *
 * | task | head | labels | metrics |
 * | --- | --- | --- | --- |
 * | boolq, superglue-rte, wic, wsc | classification | see `superglue.ts` | acc |
 * | cb | classification | contradiction, entailment, neutral | acc, f1 (macro), acc_and_f1 |
 * | copa | multiple-choice | 2 choices | acc |
 * | multirc | classification | 0, 1 per answer option | em (per question), f1a |
 * | ax-b | classification (RTE's head) | entailment, not_entailment | mcc |
 * | ax-g | classification (RTE's head) | entailment, not_entailment | acc, gender_parity |
 * | wnut17 | token-classification | BIO over 6 entity types | precision, recall, f1, accuracy |
 * | squad, mrqa-squad | span-extraction | none (start, end) | exact_match, f1 (percent) |
 *
 * WiC and WSC features mark two token spans each (`markedSpans: 2`).
 *
 * @module
 */

import { entityMetrics } from "./ner_metrics.ts";
import { accuracy, matthewsCorrelation } from "./metrics.ts";
import { squadMetrics } from "./squad_metrics.ts";
import { SUPERGLUE_LABELS, SUPERGLUE_TASKS, type SuperGlueTaskName } from "./superglue.ts";
import { axgMetrics, cbMetrics, multircMetrics } from "./superglue_metrics.ts";
import type { TaskDefinition } from "./tasks.ts";

/**
 * WNUT-2017's tags in the order of the Hugging Face `wnut_17` dataset, so that a model tagged
 * there has the same class ids here.
 */
export const WNUT17_TAGS: readonly string[] = Object.freeze([
  "O",
  "B-corporation",
  "I-corporation",
  "B-creative-work",
  "I-creative-work",
  "B-group",
  "I-group",
  "B-location",
  "I-location",
  "B-person",
  "I-person",
  "B-product",
  "I-product",
]);

/** The task names this module adds, in `--tasks` spelling. */
export const BEYOND_GLUE_TASKS: readonly string[] = Object.freeze([
  ...SUPERGLUE_TASKS,
  "wnut17",
  "squad",
  "mrqa-squad",
]);

/** A split as camtl names it (SuperGLUE's `val` files are the `dev` split). */
export type Split = "train" | "dev" | "test";

/** Where a task's files are: a family folder, an optional task folder, a file per split. */
export interface TaskFiles {
  /** Folder of the family under a data root laid out as the shared data is. */
  family: "glue" | "superglue" | "wnut17" | "squad_v1.1" | "mrqa";
  /** Task folder inside the family (null when the family folder holds the files). */
  folder: string | null;
  /** File of each split the task has, relative to the task (or family) folder. */
  files: Readonly<Partial<Record<Split, string>>>;
}

const SG_FILES = { train: "train.jsonl", dev: "val.jsonl", test: "test.jsonl" } as const;

/** The files of each task beyond GLUE. */
export const BEYOND_GLUE_FILES: Readonly<Record<string, TaskFiles>> = Object.freeze({
  "boolq": { family: "superglue", folder: "BoolQ", files: SG_FILES },
  "cb": { family: "superglue", folder: "CB", files: SG_FILES },
  "copa": { family: "superglue", folder: "COPA", files: SG_FILES },
  "multirc": { family: "superglue", folder: "MultiRC", files: SG_FILES },
  "superglue-rte": { family: "superglue", folder: "RTE", files: SG_FILES },
  "wic": { family: "superglue", folder: "WiC", files: SG_FILES },
  "wsc": { family: "superglue", folder: "WSC", files: SG_FILES },
  "ax-b": { family: "superglue", folder: "AX-b", files: { test: "AX-b.jsonl" } },
  "ax-g": { family: "superglue", folder: "AX-g", files: { test: "AX-g.jsonl" } },
  "wnut17": {
    family: "wnut17",
    folder: null,
    files: {
      train: "wnut17train.conll",
      dev: "emerging.dev.conll",
      test: "emerging.test.annotated",
    },
  },
  "squad": {
    family: "squad_v1.1",
    folder: null,
    files: { train: "train-v1.1.json", dev: "dev-v1.1.json" },
  },
  "mrqa-squad": {
    family: "mrqa",
    folder: null,
    files: { train: "train/SQuAD.jsonl.gz", dev: "dev/SQuAD.jsonl.gz" },
  },
});

const acc = (p: ArrayLike<number>, l: ArrayLike<number>) => ({ acc: accuracy(p, l) });

/** Token classification over words: tag indices per word, sentences given by `groups`. */
function wnutMetrics(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups?: ArrayLike<number>,
): Record<string, number> {
  if (preds.length !== labels.length || groups === undefined || groups.length !== preds.length) {
    throw new TypeError(
      `Cannot compute the metrics of "wnut17": ${preds.length} predicted tags, ${labels.length} gold tags and ${
        groups?.length ?? "no"
      } sentence numbers`,
    );
  }
  const pred: string[][] = [], gold: string[][] = [];
  for (let i = 0; i < preds.length; i++) {
    if (i === 0 || groups[i] !== groups[i - 1]) {
      pred.push([]);
      gold.push([]);
    }
    pred[pred.length - 1].push(WNUT17_TAGS[preds[i]] ?? "O");
    gold[gold.length - 1].push(WNUT17_TAGS[labels[i]] ?? "O");
  }
  return entityMetrics(pred, gold);
}

function spanOnly(task: string) {
  return (): Record<string, number> => {
    throw new TypeError(
      `Cannot compute the metrics of "${task}" from class indices: it is a span-extraction task, scored on answer texts (answerMetrics, or scoreTask)`,
    );
  };
}

function superglue(
  name: SuperGlueTaskName,
  rest: Omit<TaskDefinition, "name" | "labels" | "numLabels">,
): TaskDefinition {
  const labels = SUPERGLUE_LABELS[name];
  return { name, labels, numLabels: labels.length, ...rest };
}

/**
 * The registry definitions of the tasks beyond GLUE (the registry adds them after GLUE's).
 * Built on call, so that the module can be loaded before the metrics modules it uses.
 */
export function beyondGlueDefinitions(): TaskDefinition[] {
  return [
    superglue("boolq", { metrics: acc }),
    superglue("cb", { metrics: cbMetrics }),
    superglue("copa", { metrics: acc, head: "multiple-choice" }),
    superglue("multirc", { metrics: multircMetrics }),
    superglue("superglue-rte", { metrics: acc }),
    superglue("wic", { metrics: acc, markedSpans: 2 }),
    superglue("wsc", { metrics: acc, markedSpans: 2 }),
    superglue("ax-b", {
      metrics: (p, l) => ({ mcc: matthewsCorrelation(p, l) }),
      evaluatedWith: "superglue-rte",
    }),
    superglue("ax-g", { metrics: axgMetrics, evaluatedWith: "superglue-rte" }),
    {
      name: "wnut17",
      labels: WNUT17_TAGS,
      numLabels: WNUT17_TAGS.length,
      head: "token-classification",
      metrics: wnutMetrics,
    },
    ...["squad", "mrqa-squad"].map((name): TaskDefinition => ({
      name,
      labels: null,
      numLabels: 2,
      head: "span-extraction",
      metrics: spanOnly(name),
      answerMetrics: squadMetrics,
    })),
  ];
}
