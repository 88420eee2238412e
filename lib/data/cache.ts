/**
 * On-disk cache of {@linkcode FeatureSet}s, so that a run tokenizes each split once.
 *
 * Key (docs/model.md §14.5): task, task id, split, vocabulary hash, casing, max_seq_length. The
 * key is in the file name (so a changed key misses) and in the header (checked on load, so a
 * renamed or colliding file is not trusted). The original keyed on the tokenizer class and
 * length only and reused task ids from the file (docs/model.md §14.5); this one does not.
 *
 * The file format is `cache_format.ts`.
 *
 * Files are written to a temporary name in the same folder and renamed, so a killed run
 * leaves either the old file or none; a short or corrupt file fails the size or checksum
 * check and is rebuilt, never trusted.
 *
 * @module
 */

import { writeBytesAtomic } from "../io/atomic.ts";
import {
  decodeFeatureCache,
  encodeFeatureCache,
  type EncodeFeatureCacheOptions,
  featureCacheName,
} from "./cache_format.ts";
import { DataError } from "./data_error.ts";
import { featureKey } from "./feature_key.ts";
import {
  buildGlueFeatures,
  type FeatureKey,
  type FeatureSet,
  type FeatureTokenizer,
} from "./features.ts";
import { glueFile } from "./glue.ts";
import { assertGlueTask } from "./glue_tasks.ts";

/**
 * Writes a feature set atomically: a temporary file in the same folder, then a rename.
 * Nothing is left behind when writing fails.
 */
export async function writeFeatureCache(
  path: string,
  set: FeatureSet,
  options: EncodeFeatureCacheOptions = {},
): Promise<void> {
  const bytes = encodeFeatureCache(set, options);
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  await Deno.mkdir(dir, { recursive: true });
  await writeBytesAtomic(path, bytes);
}

/** Options for {@linkcode loadGlueFeatures}. */
export interface LoadGlueFeaturesOptions {
  /** The GLUE folder. */
  dataDir: string;
  /** GLUE task name. */
  task: string;
  /** Position of the task in `--tasks`. */
  taskId: number;
  /** `train`, `dev` or `test`. */
  split: string;
  /** Encodes the texts; its vocabulary hash and casing are part of the key. */
  tokenizer: FeatureTokenizer;
  /** Truncation length (`--max_seq_length`). */
  maxSeqLength: number;
  /**
   * Folder for cache files. Required: the original wrote next to the data, but shared data
   * folders should stay read-only, so the caller chooses (e.g. `<output_dir>/cache`).
   */
  cacheDir: string;
  /** Rebuild and rewrite the cache even when a valid one exists (`--overwrite_cache`). */
  overwriteCache?: boolean;
}

/** What {@linkcode loadGlueFeatures} did. */
export interface LoadedFeatures {
  /** The features. */
  features: FeatureSet;
  /** True when the features came from the cache file. */
  fromCache: boolean;
  /** The cache file (read or written). */
  cacheFile: string;
  /** Why the cache was not used (missing, overwrite requested, or the corruption found). */
  rebuildReason: string | null;
}

/**
 * One GLUE split as features: from the cache when a valid file with the same key exists,
 * otherwise tokenized and then cached.
 *
 * @example
 * ```ts ignore
 * const { features, fromCache } = await loadGlueFeatures({
 *   dataDir: "data/glue", task: "rte", taskId: 2, split: "dev",
 *   tokenizer, maxSeqLength: 128, cacheDir: "/tmp/camtl-cache",
 * });
 * ```
 * @throws {RangeError|DataError} As `readGlueExamples` when the data is bad (no cache file is
 * written then); a bad cache is rebuilt, not thrown.
 * @throws {DataError} When the cache cannot be written, naming the file.
 */
export function loadGlueFeatures(options: LoadGlueFeaturesOptions): Promise<LoadedFeatures> {
  const task = assertGlueTask(options.task);
  return cachedFeatures({
    key: featureKey({ ...options, task }),
    cacheDir: options.cacheDir,
    overwriteCache: options.overwriteCache,
    source: () => glueFile(options),
    build: () => buildGlueFeatures({ ...options, task }),
  });
}

/**
 * Features from the cache when a valid file with `key` exists, else `build()` and cache them
 * (the logic of {@linkcode loadGlueFeatures}, for any reader). `source()` finds the data file,
 * whose size is checked against the cache's; when it throws a `DataError` (data gone) a valid
 * cache still serves.
 *
 * @throws whatever `build` throws (no cache file is written then).
 * @throws {DataError} When the cache cannot be written, naming the file.
 */
export async function cachedFeatures(
  options: Pick<LoadGlueFeaturesOptions, "cacheDir" | "overwriteCache"> & {
    key: FeatureKey;
    source: () => Promise<string>;
    build: () => Promise<FeatureSet>;
  },
): Promise<LoadedFeatures> {
  const { key } = options;
  const cacheFile = `${options.cacheDir}/${featureCacheName(key)}`;
  let sourceBytes: number | null = null;
  let source: string | null = null;
  try {
    source = await options.source();
    sourceBytes = (await Deno.stat(source)).size;
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    source = null; // data gone: a valid cache may still serve
  }
  let rebuildReason: string | null = "overwriteCache was set";
  if (!options.overwriteCache) {
    try {
      const bytes = await Deno.readFile(cacheFile);
      const features = decodeFeatureCache(bytes, { file: cacheFile, expected: key, sourceBytes });
      return { features, fromCache: true, cacheFile, rebuildReason: null };
    } catch (err) {
      // Missing, corrupt or unreadable means rebuild; an unwritable folder fails below.
      rebuildReason = err instanceof Deno.errors.NotFound
        ? "no cache file"
        : (err as Error).message;
    }
  }
  // Building rethrows the reader's own error (missing folder or file, bad row).
  const features = await options.build();
  try {
    await writeFeatureCache(cacheFile, features, {
      sourceBytes: source === null ? null : sourceBytes,
    });
  } catch (err) {
    throw new DataError(
      `Cannot write feature cache "${cacheFile}": ${
        (err as Error).message
      }; pass a writable cacheDir`,
      { file: cacheFile },
    );
  }
  return { features, fromCache: false, cacheFile, rebuildReason };
}
