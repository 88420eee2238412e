/**
 * Where a task's split is on disk. `--data_dir` may be laid out three ways, tried in this order:
 *
 * 1. a data root with one folder per family (the layout of the test data, `$CAMTL_DATA`):
 *    `glue/RTE/train.tsv`, `superglue/RTE/train.jsonl`, `wnut17/wnut17train.conll`,
 *    `squad_v1.1/dev-v1.1.json`, `mrqa/dev/SQuAD.jsonl.gz`;
 * 2. a folder of task folders, as `download_glue_data.py` writes GLUE (`RTE/train.tsv`,
 *    `CB/val.jsonl`; the folder-less families keep their folder: `wnut17/...`);
 * 3. the task's own folder (`--data_dir .../superglue/CB`), holding the split files.
 *
 * So one run can mix families (`--data_dir data --tasks rte cb copa wnut17 squad`),
 * and where a name exists in two families the file names keep them apart (GLUE's RTE is
 * `train.tsv`, SuperGLUE's `train.jsonl`).
 *
 * @module
 */

import { BEYOND_GLUE_FILES, type Split, type TaskFiles } from "./beyond_glue.ts";
import { DataError } from "./data_error.ts";
import { GLUE_FOLDERS, GLUE_LAYOUTS, isGlueTask } from "./glue_tasks.ts";
import { getTask } from "./tasks.ts";

export type { Split } from "./beyond_glue.ts";

/**
 * The files of any task camtl can read (GLUE's from its table, the others from
 * `BEYOND_GLUE_FILES`).
 *
 * @throws {RangeError} For a task that is unknown, or registered without files (the demo's).
 */
export function taskFiles(task: string): TaskFiles {
  getTask(task); // names the known tasks when unknown
  if (isGlueTask(task)) {
    const layout = GLUE_LAYOUTS[task];
    return {
      family: "glue",
      folder: GLUE_FOLDERS[task],
      files: { train: layout.train.file, dev: layout.dev.file, test: layout.test.file },
    };
  }
  const files = BEYOND_GLUE_FILES[task];
  if (files === undefined) {
    throw new RangeError(`Cannot find files for task "${task}": it has no data files on disk`);
  }
  return files;
}

/** The splits a task has, in train, dev, test order (`ax-b`, `ax-g`: only `test`). */
export function taskSplits(task: string): Split[] {
  const { files } = taskFiles(task);
  return (["train", "dev", "test"] as const).filter((s) => files[s] !== undefined);
}

/** The paths tried for one split, in order (see the module doc). */
export function candidatePaths(dataDir: string, task: string, split: string): string[] {
  const { family, folder, files } = taskFiles(task);
  const file = files[split as Split];
  if (file === undefined) {
    throw new RangeError(
      `Cannot read split "${split}" of "${task}": it has ${
        taskSplits(task).map((s) => `"${s}"`).join(", ")
      }`,
    );
  }
  const dir = dataDir.replace(/\/+$/, "") || "/";
  const inner = folder === null ? file : `${folder}/${file}`;
  const paths = [
    `${dir}/${family}/${inner}`,
    `${dir}/${folder ?? family}/${file}`,
    `${dir}/${file}`,
  ];
  return [...new Set(paths)];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function listing(dir: string): Promise<string> {
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    names.sort();
    return names.length === 0 ? "nothing" : names.map((n) => `"${n}"`).join(", ");
  } catch {
    return "nothing (it does not exist)";
  }
}

/**
 * The file of one split of one task under `dataDir`, in any of the three layouts.
 *
 * @param dataDir The data root, a folder of task folders, or the task's folder.
 * @param task A task name (`rte`, `superglue-rte`, `wnut17`, `squad`, ...).
 * @param split `train`, `dev` or `test`.
 * @returns The first of {@linkcode candidatePaths} that is a file.
 * @throws {RangeError} For an unknown task or a split the task does not have.
 * @throws {DataError} When no candidate exists, listing the paths tried and what `dataDir` holds.
 * @example
 * ```ts ignore
 * await taskDataPath("data", "cb", "dev"); // "data/superglue/CB/val.jsonl"
 * await taskDataPath("data/glue", "rte", "dev"); // "data/glue/RTE/dev.tsv"
 * ```
 */
export async function taskDataPath(dataDir: string, task: string, split: string): Promise<string> {
  const paths = candidatePaths(dataDir, task, split);
  for (const path of paths) if (await isFile(path)) return path;
  throw new DataError(
    `Cannot find the ${split} split of "${task}" under "${dataDir}": tried ${
      paths.map((p) => `"${p}"`).join(", ")
    }; the folder contains ${await listing(dataDir)}`,
    { file: paths[0] },
  );
}
