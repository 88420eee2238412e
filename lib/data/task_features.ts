/**
 * Any task's split as features, by name: the file is found under `--data_dir` in any of its
 * layouts (`data_layout.ts`), read with the task's reader (GLUE TSV, SuperGLUE JSON lines,
 * CoNLL, SQuAD JSON, MRQA JSON lines) and tokenized for the task's head, through the feature
 * cache. This is what a run calls for each task in `--tasks`, whatever its family.
 *
 * @example Features of a mixed set of tasks
 * ```ts ignore
 * const tokenizer = await BertTokenizer.fromFolder("data/bert-base-uncased");
 * for (const [taskId, task] of ["rte", "cb", "copa", "wnut17", "squad"].entries()) {
 *   const { features } = await loadTaskFeatures({
 *     dataDir: "data", task, taskId, split: "dev", tokenizer, maxSeqLength: 128,
 *     docStride: 64, cacheDir: "/tmp/camtl-cache",
 *   });
 *   console.log(task, headKind(task), features.size);
 * }
 * ```
 *
 * @module
 */

import type { TaskBuildOptions } from "./_set_builder.ts";
import { cachedFeatures, type LoadedFeatures, loadGlueFeatures } from "./cache.ts";
import { readConllSentences } from "./conll.ts";
import { DataError } from "./data_error.ts";
import { candidatePaths, taskDataPath } from "./data_layout.ts";
import { featureKey } from "./feature_key.ts";
import { buildGlueFeatures, type FeatureSet } from "./features.ts";
import { isGlueTask } from "./glue_tasks.ts";
import { buildSpanFeatures, SPAN_DEFAULTS, type SpanBuildOptions } from "./span_features.ts";
import { readMrqaFile, readSquadFile } from "./squad.ts";
import { readSuperGlueExamples, SUPERGLUE_TASKS, type SuperGlueTaskName } from "./superglue.ts";
import { buildSuperGlueFeatures } from "./superglue_features.ts";
import { getTask, headKind } from "./tasks.ts";
import { buildTokenFeatures } from "./token_features.ts";

export type { TaskBuildOptions, TaskTokenizer } from "./_set_builder.ts";

/** Options for {@linkcode buildTaskFeatures}. */
export interface BuildTaskFeaturesOptions extends SpanBuildOptions {
  /** The split's file (see `taskDataPath`). */
  path: string;
}

function isSuperGlue(task: string): task is SuperGlueTaskName {
  return (SUPERGLUE_TASKS as readonly string[]).includes(task);
}

/**
 * Reads one split's file and tokenizes it for the task's head (no cache).
 *
 * @param options The file, and tokenizer, task, task id, split, max_seq_length (and, for span
 * extraction, doc stride and max query length).
 * @returns The features.
 * @throws {RangeError|DataError|TypeError} As the task's reader and feature builder.
 */
export async function buildTaskFeatures(options: BuildTaskFeaturesOptions): Promise<FeatureSet> {
  const { task, path } = options;
  const def = getTask(task);
  if (isGlueTask(task)) {
    const slash = path.lastIndexOf("/");
    const folder = path.slice(0, slash), dataDir = folder.slice(0, folder.lastIndexOf("/")) || ".";
    return buildGlueFeatures({ ...options, dataDir });
  }
  if (isSuperGlue(task)) {
    return buildSuperGlueFeatures(readSuperGlueExamples({ task, path }), options);
  }
  switch (headKind(task)) {
    case "token-classification":
      return buildTokenFeatures(readConllSentences({ path, tags: def.labels!, task }), options);
    case "span-extraction":
      return buildSpanFeatures(
        path.endsWith(".json") ? await readSquadFile(path) : readMrqaFile(path),
        options,
      );
    default:
      throw new RangeError(`Cannot build features of "${task}": camtl has no reader for it`);
  }
}

/** Options for {@linkcode loadTaskFeatures}. */
export interface LoadTaskFeaturesOptions extends TaskBuildOptions {
  /** The data root, a folder of task folders, or the task's folder (see `taskDataPath`). */
  dataDir: string;
  /** Folder for feature cache files (e.g. `<output_dir>/cache`). */
  cacheDir: string;
  /** Rebuild and rewrite the cache even when a valid one exists (`--overwrite_cache`). */
  overwriteCache?: boolean;
  /** Span extraction: stride between windows (`--doc_stride`, default 128). */
  docStride?: number;
  /** Span extraction: question tokens kept (`--max_query_length`, default 64). */
  maxQueryLength?: number;
}

/**
 * One split of any task as features: from the cache when a valid file with the same key
 * exists, otherwise read, tokenized and cached. GLUE tasks go through `loadGlueFeatures`.
 *
 * @param options Where the data and the cache are, and how to tokenize.
 * @returns The features, whether they came from the cache, the cache file and why it was
 * rebuilt.
 * @throws {RangeError} For an unknown task or a split it does not have.
 * @throws {DataError} When the file is missing (listing the paths tried) or bad, or the cache
 * cannot be written.
 */
export async function loadTaskFeatures(options: LoadTaskFeaturesOptions): Promise<LoadedFeatures> {
  const { dataDir, task, split } = options;
  if (isGlueTask(task)) {
    // The GLUE folder is two levels above the split's file; with the data gone, a cache made
    // from the first layout (a data root) may still serve.
    const path = await taskDataPath(dataDir, task, split).catch((err) => {
      if (!(err instanceof DataError)) throw err;
      return candidatePaths(dataDir, task, split)[0];
    });
    const folder = path.slice(0, path.lastIndexOf("/"));
    return loadGlueFeatures({
      ...options,
      dataDir: folder.slice(0, folder.lastIndexOf("/")) || ".",
    });
  }
  const span = headKind(task) === "span-extraction";
  const windows = span
    ? {
      docStride: options.docStride ?? SPAN_DEFAULTS.docStride,
      maxQueryLength: options.maxQueryLength ?? SPAN_DEFAULTS.maxQueryLength,
    }
    : {};
  const key = featureKey({ ...options, task: getTask(task).name }, windows);
  return cachedFeatures({
    key,
    cacheDir: options.cacheDir,
    overwriteCache: options.overwriteCache,
    source: () => taskDataPath(dataDir, task, split),
    build: async () =>
      buildTaskFeatures({ ...options, ...windows, path: await taskDataPath(dataDir, task, split) }),
  });
}
