/**
 * GLUE processors: read one split of one task into examples (text A, optional text B, label),
 * with the columns, header rules and label lists of `glue_tasks.ts`.
 *
 * Rules (transformers 2.x behaviour, plus the checks it lacks):
 * - every row must have the file's column count (the header's, or the fixed count of a
 *   header-less CoLA file); QQP rows that are too short are skipped and counted, as HF does;
 * - a classification label must be in the task's label list; an STS-B label must be a number,
 *   kept as a float;
 * - test files carry no labels.
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import { readTsv } from "./tsv.ts";
import {
  assertGlueTask,
  GLUE_FOLDERS,
  GLUE_LABELS,
  GLUE_LAYOUTS,
  type GlueLayout,
  type GlueSplit,
  type GlueTaskName,
} from "./glue_tasks.ts";

export * from "./glue_tasks.ts";

/** One GLUE example. */
export interface GlueExample {
  /** 1-based line in the source file (for error messages and tracing). */
  line: number;
  /** First text. */
  textA: string;
  /** Second text, or null for single-sentence tasks (CoLA, SST-2). */
  textB: string | null;
  /** Class index into the task's label list, the STS-B score, or null in test files. */
  label: number | null;
}

/** Which split of which task, in which GLUE folder. */
export interface GlueSplitRef {
  /** The GLUE folder holding `CoLA/`, `MNLI/`, ... (download_glue_data.py layout). */
  dataDir: string;
  /** A GLUE task name (see {@linkcode KNOWN_GLUE_TASKS}). */
  task: string;
  /** `train`, `dev` or `test`. */
  split: string;
}

/** Options for {@linkcode readGlueExamples}. */
export interface ReadGlueOptions extends GlueSplitRef {
  /** Called for every QQP row skipped for having too few columns. */
  onSkip?: (line: number, columns: number) => void;
}

/** A whole split in memory, from {@linkcode loadGlueExamples}. */
export interface GlueExamples {
  /** The task read. */
  task: GlueTaskName;
  /** The split read. */
  split: GlueSplit;
  /** The file the examples came from. */
  file: string;
  /** The examples, in file order. */
  examples: GlueExample[];
  /** Lines of rows skipped as too short (QQP only). */
  skippedLines: number[];
}

const SPLITS: readonly GlueSplit[] = ["train", "dev", "test"];

async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

function quoted(names: string[]): string {
  return names.length === 0 ? "nothing" : names.map((n) => `"${n}"`).join(", ");
}

/**
 * The path of one split's file, checked to exist.
 *
 * @param ref The GLUE folder, task and split.
 * @returns `<dataDir>/<Folder>/<file>`.
 * @throws {RangeError} For an unknown task or split, listing the known ones.
 * @throws {DataError} When the data folder, the task folder or the file is missing; the
 * message lists what the enclosing folder does contain.
 */
export async function glueFile({ dataDir, task, split }: GlueSplitRef): Promise<string> {
  const name = assertGlueTask(task);
  if (!(SPLITS as readonly string[]).includes(split)) {
    throw new RangeError(
      `Cannot read split "${split}" of "${name}": unknown split; use ${quoted([...SPLITS])}`,
    );
  }
  if (!(await isDirectory(dataDir))) {
    throw new DataError(`Cannot read GLUE data in "${dataDir}": the folder does not exist`, {
      file: dataDir,
    });
  }
  const folder = `${dataDir}/${GLUE_FOLDERS[name]}`;
  if (!(await isDirectory(folder))) {
    throw new DataError(
      `Cannot find task "${name}" in "${dataDir}": there is no folder "${
        GLUE_FOLDERS[name]
      }"; the data folder contains ${quoted(await listNames(dataDir))}`,
      { file: folder },
    );
  }
  const layout = GLUE_LAYOUTS[name][split as GlueSplit];
  const path = `${folder}/${layout.file}`;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("not a file");
  } catch {
    throw new DataError(
      `Cannot find the ${split} split of "${name}": there is no file "${layout.file}" in "${folder}"; the folder contains ${
        quoted(await listNames(folder))
      }`,
      { file: path },
    );
  }
  return path;
}

function parseLabel(
  task: GlueTaskName,
  raw: string,
  where: { file: string; line: number },
): number {
  if (task === "sts-b") {
    // A plain decimal number; Number("") would be 0 and Number("0x1") 1, so check the form.
    if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) return Number(raw);
    throw new DataError(
      `Cannot read "${where.file}" line ${where.line}: label "${raw}" is not a number; "sts-b" labels are similarity scores such as 3.800`,
      where,
    );
  }
  const labels = GLUE_LABELS[task];
  const index = labels.indexOf(raw);
  if (index < 0) {
    throw new DataError(
      `Cannot read "${where.file}" line ${where.line}: label "${raw}" is not one of the "${task}" labels ${
        quoted([...labels])
      }`,
      where,
    );
  }
  return index;
}

function neededColumns(layout: GlueLayout): number {
  return Math.max(layout.textA, layout.textB ?? 0, layout.label ?? 0) + 1;
}

/**
 * Streams the examples of one split, row by row, with bounded memory.
 *
 * @param options The GLUE folder, task and split; `onSkip` sees every skipped QQP row.
 * @returns The examples in file order.
 * @throws {RangeError} For an unknown task or split.
 * @throws {DataError} For a missing folder or file, an empty or binary file, a row with the
 * wrong column count (naming file, line, expected and found counts) or a bad label (naming
 * file, line, the value and the allowed labels).
 */
export async function* readGlueExamples(options: ReadGlueOptions): AsyncGenerator<GlueExample> {
  const name = assertGlueTask(options.task);
  const file = await glueFile(options);
  const split = options.split as GlueSplit;
  const layout = GLUE_LAYOUTS[name][split];
  const needed = neededColumns(layout);
  let expected = layout.header ? -1 : layout.columns ?? needed;
  let sawHeader = !layout.header;
  let rows = 0;
  for await (const { fields, line } of readTsv(file)) {
    if (!sawHeader) {
      sawHeader = true;
      expected = fields.length;
      if (expected < needed) {
        throw new DataError(
          `Cannot read "${file}" line ${line}: the header has ${expected} columns, but "${name}" ${split} needs at least ${needed}`,
          { file, line },
        );
      }
      continue;
    }
    if (fields.length !== expected) {
      if (layout.skipShortRows && fields.length < needed) {
        options.onSkip?.(line, fields.length);
        continue;
      }
      throw new DataError(
        `Cannot read "${file}" line ${line}: expected ${expected} tab-separated columns, found ${fields.length}`,
        { file, line },
      );
    }
    rows++;
    const labelCol = layout.label === null
      ? null
      : layout.label < 0
      ? fields.length + layout.label
      : layout.label;
    yield {
      line,
      textA: fields[layout.textA],
      textB: layout.textB === null ? null : fields[layout.textB],
      label: labelCol === null ? null : parseLabel(name, fields[labelCol], { file, line }),
    };
  }
  if (rows === 0) {
    throw new DataError(
      `Cannot read "${file}": the file has no data rows${layout.header ? " after its header" : ""}`,
      { file },
    );
  }
}

/**
 * Reads a whole split into memory. Fine for every split but MNLI/QQP train, which the
 * feature builder streams instead.
 *
 * @example Loading RTE dev
 * ```ts ignore
 * import { loadGlueExamples } from "./glue.ts";
 * const { examples } = await loadGlueExamples({ dataDir: "data/glue", task: "rte", split: "dev" });
 * console.log(examples.length); // 277
 * ```
 * @throws {RangeError|DataError} As {@linkcode readGlueExamples}.
 */
export async function loadGlueExamples(ref: GlueSplitRef): Promise<GlueExamples> {
  const name = assertGlueTask(ref.task);
  const file = await glueFile(ref);
  const examples: GlueExample[] = [];
  const skippedLines: number[] = [];
  const onSkip = (line: number) => skippedLines.push(line);
  for await (const ex of readGlueExamples({ ...ref, onSkip })) examples.push(ex);
  return { task: name, split: ref.split as GlueSplit, file, examples, skippedLines };
}
