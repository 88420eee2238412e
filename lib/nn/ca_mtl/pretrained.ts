/**
 * Building a multi-task model from a name or a folder (docs/model.md §9.2, §9.3):
 *
 * - `CA-MTL-base` / `CA-MTL-large`: the CA-MTL encoder on `bert-base-cased` / `bert-large-cased`
 *   weights, mapped as docs/model.md §9.2 says (base layer 11 is built fresh under new keys, so the
 *   checkpoint's layer 11 is reported unused; CLN gains and biases load from the LayerNorms they
 *   replace because the keys match; every new tensor keeps its initialisation);
 * - `CA-MTL-tiny`: this project's small random-init config;
 * - a folder saved by camtl: rebuilt with the architecture and tasks its `config.json` records
 *   (docs/model.md §15.2), every tensor loaded;
 * - any other name: a plain BERT encoder with per-task heads (the hard-sharing baseline).
 *
 * @module
 */

import type { Gpu } from "../../gpu/device.ts";
import { type BertConfig, bertConfigFromJson, bertConfigToJson } from "../../io/config.ts";
import { locateModel, type LocateOptions, type ResolvedModel } from "../../io/hub.ts";
import { CheckpointError } from "../../io/errors.ts";
import { loadFolderWeights, type LoadReport } from "../state_dict.ts";
import { checkVocabularyFits } from "../matching_parts.ts";
import {
  type Architecture,
  BASE_CHECKPOINT,
  type CaMtlConfig,
  caMtlTinyBert,
  checkSavedTasks,
  resolveTaskSpec,
  type TaskSpec,
} from "./config.ts";
import { HEAD_KINDS, type HeadKind } from "../../data/tasks.ts";
import { CaMtl } from "./model.ts";

/** The `config.json` key under which camtl records what it built. */
export const CAMTL_CONFIG_KEY = "camtl";

/**
 * Keys a BERT checkpoint does not have: CA-MTL's new modules (which keep their initialisation,
 * docs/model.md §9.1), the task heads, and the pooler (absent from token-classification models).
 */
export const NEW_MODULE_KEYS: readonly RegExp[] = Object.freeze([
  /task_type_embeddings|conditional_alignment|task_transformation/,
  /cond_block_diag_attn|random_weight_matrix|ln_weight_modulation/,
  /\.adapter|adapter_layer|new_attention|new_intermediate|new_output/,
  /^decoders\./,
  /^bert\.pooler\./,
]);

/** What `config.json` records beyond BERT's fields. */
export interface SavedCaMtl {
  architecture: Architecture;
  tasks: TaskSpec[];
  max_seq_length: number;
}

/** Options of {@linkcode loadCaMtl}. */
export interface LoadCaMtlOptions {
  /** The device the weights are allocated on. */
  gpu: Gpu;
  /** The task heads to build (a folder saved by camtl uses the tasks it recorded instead). */
  tasks: TaskSpec[];
  /** L, the sequence length the conditional attention is sized for (a camtl folder records it). */
  maxSeqLength: number;
  /** Seed of the initialisation and of the dropout stream. Default 42. */
  seed?: number;
  /**
   * The tokenizer's vocabulary size: `CA-MTL-tiny`'s vocab_size; for a checkpoint, a size
   * its embedding table must hold (a larger vocabulary is refused).
   */
  vocabSize?: number;
  /** Where the tokenizer's vocabulary came from, named when it does not fit. */
  vocabSource?: string;
  /**
   * The encoder to build on a BERT checkpoint named by path or hub id (default: the plain
   * `bert` baseline); `CA-MTL-base` maps its weights as docs/model.md §9.2 says.
   */
  architecture?: Architecture;
  /**
   * Where to look for a named checkpoint in the hub cache (see `locateModel`); nothing is
   * downloaded (`resolveModel(id, { download: true })` does that first).
   */
  resolve?: LocateOptions;
}

/** The built model, where its weights came from, and the folder holding its tokenizer files. */
export interface LoadedCaMtl {
  /** The model, materialised on `options.gpu`, in training mode. */
  model: CaMtl;
  /** Which keys loaded, stayed initialised or went unused; null for `CA-MTL-tiny`. */
  report: LoadReport | null;
  /** Folder with `vocab.txt`, or null for `CA-MTL-tiny`. */
  folder: string | null;
  /** Where the weights came from (a local folder or the cache); null for `CA-MTL-tiny`. */
  origin: ResolvedModel | null;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`Cannot parse "${path}": ${(e as Error).message}`, { file: path });
  }
}

/**
 * The camtl record of a parsed `config.json` (null for a plain BERT config), checked: a
 * known architecture, a non-empty list of uniquely named tasks with positive integer label
 * counts, and a positive integer max_seq_length.
 *
 * @throws {CheckpointError} naming the file and the field that is wrong
 */
export function savedCaMtlFromJson(json: unknown, file: string): SavedCaMtl | null {
  const record = (json as Record<string, unknown> | null)?.[CAMTL_CONFIG_KEY];
  if (record === undefined) return null;
  const fail = (state: string): never => {
    throw new CheckpointError(
      `Cannot read the camtl record of "${file}": ${state}; re-save the model with camtl`,
      { file },
    );
  };
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    fail(`"${CAMTL_CONFIG_KEY}" is ${JSON.stringify(record)}, expected an object`);
  }
  const { architecture, tasks, max_seq_length: maxSeqLength } = record as Record<string, unknown>;
  const architectures: Architecture[] = ["CA-MTL-base", "CA-MTL-large", "bert"];
  if (!architectures.includes(architecture as Architecture)) {
    fail(`"architecture" is ${JSON.stringify(architecture)}, expected one of ${architectures}`);
  }
  if (!Array.isArray(tasks) || tasks.length === 0) fail(`"tasks" is not a non-empty list`);
  const names = new Set<string>();
  (tasks as unknown[]).forEach((t, i) => {
    const { name, numLabels, head, markedSpans } = (t ?? {}) as Record<string, unknown>;
    if (typeof name !== "string" || name === "" || names.has(name)) {
      fail(`"tasks[${i}].name" is ${JSON.stringify(name)}, expected a new task name`);
    }
    if (!Number.isSafeInteger(numLabels) || (numLabels as number) < 1) {
      fail(`"tasks[${i}].numLabels" is ${JSON.stringify(numLabels)}, expected an integer ≥ 1`);
    }
    if (head !== undefined && !HEAD_KINDS.includes(head as HeadKind)) {
      fail(`"tasks[${i}].head" is ${JSON.stringify(head)}, expected one of ${HEAD_KINDS}`);
    }
    if (
      markedSpans !== undefined &&
      !(Number.isSafeInteger(markedSpans) && (markedSpans as number) >= 0)
    ) {
      fail(`"tasks[${i}].markedSpans" is ${JSON.stringify(markedSpans)}, expected a count`);
    }
    try {
      resolveTaskSpec(t as TaskSpec);
    } catch (e) {
      fail(`"tasks[${i}]" does not describe a head: ${(e as Error).message}`);
    }
    names.add(name as string);
  });
  if (!Number.isSafeInteger(maxSeqLength) || (maxSeqLength as number) < 1) {
    fail(`"max_seq_length" is ${JSON.stringify(maxSeqLength)}, expected an integer ≥ 1`);
  }
  return {
    architecture: architecture as Architecture,
    tasks: (tasks as TaskSpec[]).map(({ name, numLabels, head, markedSpans }) => ({
      name,
      numLabels,
      ...(head === undefined ? {} : { head }),
      ...(markedSpans === undefined ? {} : { markedSpans }),
    })),
    max_seq_length: maxSeqLength as number,
  };
}

/** `config.json` of a camtl model: HF BERT fields plus the camtl record (every head kind). */
export function caMtlConfigToJson(config: CaMtlConfig): Record<string, unknown> {
  const saved: SavedCaMtl = {
    architecture: config.architecture,
    tasks: config.tasks.map(resolveTaskSpec),
    max_seq_length: config.maxSeqLength,
  };
  return {
    ...bertConfigToJson(config.bert),
    architectures: ["CaMtl"],
    model_type: "bert",
    [CAMTL_CONFIG_KEY]: saved,
  };
}

/**
 * Builds and loads the multi-task model `nameOrPath` names, as the CLI's `--model_name_or_path`:
 *
 * - `CA-MTL-base` / `CA-MTL-large`: the CA-MTL encoder on `bert-base-cased` /
 *   `bert-large-cased` weights (base layer 11 is built fresh under new keys, so the checkpoint's
 *   layer 11 is reported unused; every new module keeps its initialisation);
 * - `CA-MTL-tiny`: the small random-init config ({@linkcode caMtlTinyBert}), no files read;
 * - a folder saved by camtl: rebuilt with the architecture and tasks its `config.json` records,
 *   every tensor loaded;
 * - any other BERT name or folder: `options.architecture` (default the plain `bert` baseline)
 *   with per-task heads.
 *
 * @example CA-MTL-tiny for the demo tasks
 * ```ts ignore
 * const gpu = await requestGpu();
 * const { model } = await loadCaMtl("CA-MTL-tiny", {
 *   gpu,
 *   tasks: [{ name: "sst-2", numLabels: 2 }, { name: "rte", numLabels: 2 }],
 *   maxSeqLength: 64,
 *   vocabSize: tokenizer.vocabSize,
 * });
 * console.log(model.countParameters());
 * ```
 * @throws {CheckpointError} when weights are missing, mis-shaped (naming `config.json` too) or
 *   unreadable, when the tokenizer's vocabulary is larger than `vocab_size`, or when `tasks`
 *   differ from the heads of a saved camtl model
 * @throws {HubError} when a name is neither a folder nor in the hub cache (it never downloads)
 */
export async function loadCaMtl(
  nameOrPath: string,
  options: LoadCaMtlOptions,
): Promise<LoadedCaMtl> {
  const { gpu, seed = 42 } = options;
  if (nameOrPath === "CA-MTL-tiny") {
    const bert = caMtlTinyBert(options.vocabSize ?? 30522);
    const config: CaMtlConfig = {
      architecture: "CA-MTL-base",
      bert,
      tasks: options.tasks,
      maxSeqLength: options.maxSeqLength,
    };
    return {
      model: new CaMtl(config, { seed }).materialize(gpu, seed),
      report: null,
      folder: null,
      origin: null,
    };
  }
  const base = BASE_CHECKPOINT[nameOrPath] ?? nameOrPath;
  const origin = await locateModel(base, options.resolve);
  const { folder } = origin;
  const configFile = `${folder}/config.json`;
  const json = await readJson(configFile);
  const bert: BertConfig = bertConfigFromJson(json, configFile);
  const saved = savedCaMtlFromJson(json, configFile);
  if (options.vocabSize !== undefined) {
    checkVocabularyFits(
      { size: options.vocabSize, source: options.vocabSource ?? "the tokenizer" },
      { vocabSize: bert.vocabSize, source: configFile },
    );
  }
  if (saved) checkSavedTasks(saved.tasks, options.tasks, configFile);
  const architecture: Architecture = saved?.architecture ??
    (nameOrPath in BASE_CHECKPOINT ? nameOrPath as Architecture : options.architecture ?? "bert");
  const config: CaMtlConfig = {
    architecture,
    bert,
    tasks: saved?.tasks ?? options.tasks,
    maxSeqLength: saved?.max_seq_length ?? options.maxSeqLength,
  };
  const model = new CaMtl(config, { seed }).materialize(gpu, seed);
  // A camtl checkpoint must hold every tensor; a BERT checkpoint leaves the new modules and
  // the heads at their initialisation.
  const report = await loadFolderWeights(
    model,
    folder,
    saved ? {} : { optionalPrefix: "bert.", allowMissing: [...NEW_MODULE_KEYS] },
    configFile,
  );
  return { model, report, folder, origin };
}
