/**
 * The GLUE task table: names, folders, files, columns and label lists, as transformers 2.x
 * GLUE processors define them (docs/model.md §14.2). Readers live in `glue.ts`.
 *
 * @module
 */

/** The GLUE task names, spelled as transformers' GLUE registry spells them. */
export type GlueTaskName =
  | "cola"
  | "mnli"
  | "mnli-mm"
  | "rte"
  | "wnli"
  | "qqp"
  | "sts-b"
  | "sst-2"
  | "qnli"
  | "mrpc";

/** A GLUE split. `dev` and `test` of MNLI are the matched files; `mnli-mm` reads the mismatched ones. */
export type GlueSplit = "train" | "dev" | "test";

/**
 * The default `--tasks` list in the released order, which fixes task ids 0..8 (docs/model.md
 * §14.1). `mnli-mm` is not a training task: it is evaluated with MNLI's head.
 */
export const GLUE_TASKS: readonly GlueTaskName[] = Object.freeze(
  [
    "cola",
    "mnli",
    "rte",
    "wnli",
    "qqp",
    "sts-b",
    "sst-2",
    "qnli",
    "mrpc",
  ] as const,
);

/** Every task name this module can read: {@linkcode GLUE_TASKS} plus `mnli-mm`. */
export const KNOWN_GLUE_TASKS: readonly GlueTaskName[] = Object.freeze([
  ...GLUE_TASKS,
  "mnli-mm",
]);

/** Folder of each task under the GLUE data directory (download_glue_data.py layout). */
export const GLUE_FOLDERS: Readonly<Record<GlueTaskName, string>> = Object.freeze({
  "cola": "CoLA",
  "mnli": "MNLI",
  "mnli-mm": "MNLI",
  "rte": "RTE",
  "wnli": "WNLI",
  "qqp": "QQP",
  "sts-b": "STS-B",
  "sst-2": "SST-2",
  "qnli": "QNLI",
  "mrpc": "MRPC",
});

const BINARY = Object.freeze(["0", "1"]);
const NLI3 = Object.freeze(["contradiction", "entailment", "neutral"]);
const NLI2 = Object.freeze(["entailment", "not_entailment"]);

/**
 * Label strings of each classification task, in index order (the index is the class id the
 * model predicts). STS-B is a regression task and has an empty list.
 */
export const GLUE_LABELS: Readonly<Record<GlueTaskName, readonly string[]>> = Object.freeze({
  "cola": BINARY,
  "mnli": NLI3,
  "mnli-mm": NLI3,
  "rte": NLI2,
  "wnli": BINARY,
  "qqp": BINARY,
  "sts-b": Object.freeze([]),
  "sst-2": BINARY,
  "qnli": NLI2,
  "mrpc": BINARY,
});

/** How one split of one task is laid out on disk. */
export interface GlueLayout {
  /** File name inside the task folder. */
  file: string;
  /** Whether the first line is a header to skip. */
  header: boolean;
  /** Column count of a header-less file (a file with a header takes its count from it). */
  columns?: number;
  /** Column of the first text. */
  textA: number;
  /** Column of the second text, or null for single-sentence tasks. */
  textB: number | null;
  /** Column of the label (-1 = last), or null for unlabelled test files. */
  label: number | null;
  /** QQP only: rows with too few columns are skipped and counted instead of rejected. */
  skipShortRows: boolean;
}

type Cols = Pick<GlueLayout, "textA" | "textB">;

function layouts(
  files: [string, string, string],
  trainDev: Cols & { label: number },
  test: Cols,
  extra: Partial<Pick<GlueLayout, "skipShortRows">> & { noHeaderColumns?: number } = {},
): Record<GlueSplit, GlueLayout> {
  const skipShortRows = extra.skipShortRows ?? false;
  const header = extra.noHeaderColumns === undefined;
  const labelled = { ...trainDev, header, columns: extra.noHeaderColumns, skipShortRows };
  return {
    train: { file: files[0], ...labelled },
    dev: { file: files[1], ...labelled },
    test: { file: files[2], ...test, label: null, header: true, skipShortRows },
  };
}

const STD: [string, string, string] = ["train.tsv", "dev.tsv", "test.tsv"];
const PAIR_LAST = { textA: 1, textB: 2, label: -1 };

/** Column layout of every task and split (docs/model.md §14.2, later transformers 2.x). */
export const GLUE_LAYOUTS: Readonly<Record<GlueTaskName, Readonly<Record<GlueSplit, GlueLayout>>>> =
  Object.freeze({
    "cola": layouts(STD, { textA: 3, textB: null, label: 1 }, { textA: 1, textB: null }, {
      noHeaderColumns: 4,
    }),
    "sst-2": layouts(STD, { textA: 0, textB: null, label: 1 }, { textA: 1, textB: null }),
    "mrpc": layouts(STD, { textA: 3, textB: 4, label: 0 }, { textA: 3, textB: 4 }),
    "sts-b": layouts(STD, { textA: 7, textB: 8, label: -1 }, { textA: 7, textB: 8 }),
    "qqp": layouts(STD, { textA: 3, textB: 4, label: 5 }, { textA: 1, textB: 2 }, {
      skipShortRows: true,
    }),
    "mnli": layouts(
      ["train.tsv", "dev_matched.tsv", "test_matched.tsv"],
      { textA: 8, textB: 9, label: -1 },
      { textA: 8, textB: 9 },
    ),
    "mnli-mm": layouts(
      ["train.tsv", "dev_mismatched.tsv", "test_mismatched.tsv"],
      { textA: 8, textB: 9, label: -1 },
      { textA: 8, textB: 9 },
    ),
    "qnli": layouts(STD, PAIR_LAST, { textA: 1, textB: 2 }),
    "rte": layouts(STD, PAIR_LAST, { textA: 1, textB: 2 }),
    "wnli": layouts(STD, PAIR_LAST, { textA: 1, textB: 2 }),
  });

/** True when `name` is a task this module knows. */
export function isGlueTask(name: string): name is GlueTaskName {
  return (KNOWN_GLUE_TASKS as readonly string[]).includes(name);
}

/**
 * Checks a task name and returns it typed.
 *
 * @throws {RangeError} Naming the known tasks when `name` is not one of them.
 */
export function assertGlueTask(name: string): GlueTaskName {
  if (!isGlueTask(name)) {
    throw new RangeError(
      `Cannot use task "${name}": unknown task; known tasks are ${
        KNOWN_GLUE_TASKS.map((t) => `"${t}"`).join(", ")
      }`,
    );
  }
  return name;
}

// `numLabels` and `isRegression` answer for every registered task, GLUE's and others (such as
// the demo suite's), so they live with the registry; they stay importable from here.
export { isRegression, numLabels } from "./tasks.ts";
