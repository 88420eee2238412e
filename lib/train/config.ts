/**
 * The typed configuration of a run: what `runTraining` takes from a script or a notebook. One
 * camelCase field per `run.py` flag, each optional with the flag's default, plus callbacks that
 * follow the run. The CLI turns its flags into the same settings; a library user never writes a
 * flag string.
 *
 * @example The demo, shortened, from a notebook
 * ```ts ignore
 * import { runTraining } from "jsr:@camtl/camtl";
 * const result = await runTraining({ demo: true, maxSteps: 60, outputDir: "runs/nb", progress: true });
 * console.log(result.evalResults);
 * ```
 *
 * @module
 */

import type { AdapterReport } from "../gpu/device.ts";
import { defaultArgs, finishArgs, type TrainArgs } from "../cli/train_args.ts";
import {
  closest,
  DEMO_SETTINGS,
  DEMO_TASKS,
  expected,
  FLAGS,
  type FlagSpec,
  type FlagValue,
  readJsonValue,
  UsageError,
} from "../cli/flags.ts";
import type { LogRecord } from "./log.ts";

/** How the caller follows a run. */
export interface RunHooks {
  /** The adapter the run got, before anything is loaded. */
  onAdapter?(adapter: AdapterReport): void;
  /** A line worth showing (what was loaded, where outputs went). */
  onInfo?(line: string): void;
  /** After each optimizer step: the step, the total, the learning rate and (when read) the loss. */
  onStep?(step: number, total: number, info: { loss?: number; lr: number }): void;
  /** Each logged record: losses, learning rate, throughput, task mix, evaluations. */
  onLog?(record: LogRecord): void;
}

/**
 * Settings of {@linkcode runTraining}: every field is optional and defaults as its `run.py` flag
 * does (transformers 2.11 and the released CA-MTL code). With `demo: true` the unset fields take
 * the embedded demo's values instead. Flags that exist only for the command line (`--help`,
 * `--verbose`) or only for compatibility (`--local_rank`, `--tpu_*`, the `--per_gpu_*` aliases)
 * have no field.
 */
export interface TrainingConfig extends RunHooks {
  /**
   * Train on camtl's embedded synthetic suite (CA-MTL-tiny, three generated tasks, 300 steps,
   * MT-Uncertainty, written to `runs/demo`) instead of GLUE; set fields override the demo's.
   * Default false.
   */
  demo?: boolean;
  /**
   * Print a progress bar and the logged values to stderr, as `deno task train` does (plain
   * lines where stderr is not a terminal, as in a notebook). Default false.
   */
  progress?: boolean;

  // Model (CaMtlArguments)
  /**
   * CA-MTL-base, CA-MTL-large, CA-MTL-tiny, or a plain BERT folder/hub id (hard-sharing baseline).
   * `--model_name_or_path`; required unless `demo`.
   */
  modelNameOrPath?: string;
  /**
   * Freeze encoder layers START to END (inclusive) and the embeddings, e.g. 0-4 for base.
   * `--freeze_encoder_layers`; default unset.
   */
  freezeEncoderLayers?: string | null;

  // Data (MultiTaskDataArguments)
  /**
   * Folder of task folders (CoLA, MNLI, ..., CB, ...), or a data root holding `glue/`,
   * `superglue/`, `wnut17/`, `squad_v1.1/`, `mrqa/`. `--data_dir`; required unless `demo`.
   */
  dataDir?: string;
  /**
   * Tasks to train on; their order gives the task ids. `--tasks`; default cola mnli rte wnli qqp
   * sts-b sst-2 qnli mrpc.
   */
  tasks?: string[] | null;
  /** Rebuild the cached features instead of reading them. `--overwrite_cache`; default false. */
  overwriteCache?: boolean;
  /**
   * Truncate inputs to N tokens; CA-MTL needs N to divide the hidden size. `--max_seq_length`;
   * default 128.
   */
  maxSeqLength?: number;
  /**
   * Span extraction: tokens between the starts of a long context's windows. `--doc_stride`;
   * default 128.
   */
  docStride?: number;
  /** Span extraction: question tokens kept. `--max_query_length`; default 64. */
  maxQueryLength?: number;
  /** Span extraction: the longest answer in tokens. `--max_answer_length`; default 30. */
  maxAnswerLength?: number;
  /**
   * Keep only the first N training examples of each task (questions for span extraction).
   * `--max_train_samples`; default all.
   */
  maxTrainSamples?: number | null;
  /**
   * Keep only the first N dev and test examples of each task (questions for span extraction).
   * `--max_eval_samples`; default all.
   */
  maxEvalSamples?: number | null;

  // Multi-task training (MultiTaskTrainingArguments)
  /**
   * MT-Uncertainty sampling: train on the most uncertain of one candidate batch per task.
   * `--use_mt_uncertainty`; default false.
   */
  useMtUncertainty?: boolean;
  /**
   * Alone: a task drawn uniformly per batch; with `useMtUncertainty`: the shorter epoch.
   * `--uniform_mt_sampling`; default false.
   */
  uniformMtSampling?: boolean;
  /**
   * MT-Uncertainty epoch length as a fraction of max task batches x tasks (not clamped).
   * `--percent_of_max_data_size`; default 1.0.
   */
  percentOfMaxDataSize?: number;
  /**
   * Linear warm-up over this fraction of all steps, then linear decay to 0. `--warmup_proportion`;
   * default 0.1.
   */
  warmupProportion?: number;
  /**
   * Sampler without MT-Uncertainty (proportional: the released code's pooled draws).
   * `--mt_sampling`; default sequential.
   */
  mtSampling?: "sequential" | "uniform" | "proportional" | null;
  /**
   * MT-Uncertainty score: the released code's formula or the paper's. `--mt_uncertainty_score`;
   * default "code".
   */
  mtUncertaintyScore?: "code" | "paper";

  // Training (transformers 2.11 TrainingArguments)
  /**
   * Where checkpoints, metrics, predictions and logs are written. `--output_dir`; required unless
   * `demo`.
   */
  outputDir?: string;
  /**
   * Allow training into an `outputDir` that is not empty. `--overwrite_output_dir`; default false.
   */
  overwriteOutputDir?: boolean;
  /** Train. `--do_train`; default false. */
  doTrain?: boolean;
  /** Evaluate on every task's dev set (plus mnli-mm). `--do_eval`; default false. */
  doEval?: boolean;
  /**
   * Write test-set predictions in each benchmark's submission format. `--do_predict`; default
   * false.
   */
  doPredict?: boolean;
  /**
   * Evaluate on the dev sets every `loggingSteps` steps. `--evaluate_during_training`; default
   * false.
   */
  evaluateDuringTraining?: boolean;
  /** Examples per training batch. `--per_device_train_batch_size`; default 8. */
  perDeviceTrainBatchSize?: number;
  /** Examples per evaluation batch. `--per_device_eval_batch_size`; default 8. */
  perDeviceEvalBatchSize?: number;
  /**
   * Batches whose gradients are summed before each optimizer step. `--gradient_accumulation_steps`;
   * default 1.
   */
  gradientAccumulationSteps?: number;
  /** Peak AdamW learning rate. `--learning_rate`; default 5e-5. */
  learningRate?: number;
  /**
   * AdamW decoupled weight decay (never on biases and LayerNorm weights). `--weight_decay`; default
   * 0.0.
   */
  weightDecay?: number;
  /** AdamW epsilon. `--adam_epsilon`; default 1e-8. */
  adamEpsilon?: number;
  /** Clip gradients to this global L2 norm. `--max_grad_norm`; default 1.0. */
  maxGradNorm?: number;
  /** Training epochs (a fraction is allowed). `--num_train_epochs`; default 3.0. */
  numTrainEpochs?: number;
  /**
   * If > 0: train this many optimizer steps, overriding `numTrainEpochs`. `--max_steps`; default
   * -1.
   */
  maxSteps?: number;
  /**
   * Refused unless 0: the released trainer warms up over `warmupProportion` instead.
   * `--warmup_steps`; default 0.
   */
  warmupSteps?: number;
  /** Folder for TensorBoard event files. `--logging_dir`; default runs/<MonDD_HH-MM-SS>_<host>. */
  loggingDir?: string | null;
  /** Also log the first step. `--logging_first_step`; default false. */
  loggingFirstStep?: boolean;
  /**
   * Log loss, learning rate, throughput and task counts every N steps (0: never).
   * `--logging_steps`; default 500.
   */
  loggingSteps?: number;
  /** Save a checkpoint every N steps (0: never). `--save_steps`; default 500. */
  saveSteps?: number;
  /**
   * Keep only the N newest checkpoints (0 or less: keep all). `--save_total_limit`; default keep
   * all.
   */
  saveTotalLimit?: number | null;
  /** Do not use the GPU: run on the fallback (CPU) adapter. `--no_cuda`; default false. */
  noCuda?: boolean;
  /** Seed of initialisation, dropout and sampling. `--seed`; default 42. */
  seed?: number;
  /**
   * Mixed precision (apex O1): f16 matmul operands, f32 sums and weights, loss scaling; needs
   * shader-f16. `--fp16`; default false.
   */
  fp16?: boolean;
  /**
   * Apex AMP level with `fp16`: O1 mixed precision, O0 f32; O2 and O3 are refused.
   * `--fp16_opt_level`; default "O1".
   */
  fp16OptLevel?: "O0" | "O1" | "O2" | "O3";

  // camtl
  /**
   * Folder or hub id of the tokenizer (default: the model's; bert-base-cased for CA-MTL-tiny).
   * `--tokenizer_name`; default unset.
   */
  tokenizerName?: string | null;
  /**
   * Where cached features go (default: $CAMTL_CACHE or ~/.cache/camtl/features). `--cache_dir`;
   * default unset.
   */
  cacheDir?: string | null;
}

/**
 * A configuration mistake: one line naming the field, the value and what it expects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, resolveTrainingConfig } from "./config.ts";
 * assert.throws(() => resolveTrainingConfig({ demo: true, learningRate: -1 }), ConfigError);
 * ```
 */
export class ConfigError extends Error {
  /** The exit code a command line would use for it, as for a usage error. */
  readonly exitCode = 2;

  /** Makes the error; `message` reads "Cannot …" and names the field and the fix. */
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "ConfigError";
  }
}

const HOOKS = ["onAdapter", "onInfo", "onStep", "onLog"] as const;
const OWN = new Set<string>(["demo", "progress", ...HOOKS]);
const NO_FIELD = new Set([
  "help",
  "verbose",
  "local_rank",
  "tpu_num_cores",
  "tpu_metrics_debug",
  "per_gpu_train_batch_size",
  "per_gpu_eval_batch_size",
]);

/** The flag rows that have a configuration field, by field name. */
const FIELDS: ReadonlyMap<string, FlagSpec> = new Map(
  FLAGS.filter((f) => !NO_FIELD.has(f.name)).map((f) => [f.key, f]),
);

/** Every field name {@linkcode TrainingConfig} accepts. */
export const CONFIG_FIELDS: readonly string[] = Object.freeze([...OWN, ...FIELDS.keys()]);

const camel = (flag: string) => flag.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Rewrites a command-line message for a library caller: each `--flag` it names becomes the
 * field that sets it (`--max_seq_length` → `maxSeqLength`).
 */
export function toConfigError(error: UsageError | ConfigError): ConfigError {
  if (error instanceof ConfigError) return error;
  const named = new Set(FLAGS.map((f) => f.name));
  const message = error.message.replace(
    /--([a-z][a-z0-9_]*)/g,
    (all, name: string) => named.has(name) ? camel(name) : all,
  );
  const out = new ConfigError(message);
  out.stack = error.stack;
  return out;
}

function readField(spec: FlagSpec, value: unknown): FlagValue {
  if (value === null && spec.default === null && !spec.required) return null;
  try {
    return readJsonValue(spec, value, "config");
  } catch {
    throw new ConfigError(
      `Cannot use ${spec.key} = ${JSON.stringify(value)}: expected ${expected(spec)}`,
    );
  }
}

/**
 * Fills in the defaults of `config` and checks it: each field's type and range, unknown fields
 * (with the closest name), and the combinations the command line also refuses.
 *
 * @returns the complete settings a run acts on
 * @throws {ConfigError} naming the field and what would fix it
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTrainingConfig } from "./config.ts";
 * const args = resolveTrainingConfig({ demo: true, maxSteps: 20 });
 * assert.equal(args.maxSteps, 20);
 * assert.equal(args.modelNameOrPath, "CA-MTL-tiny");
 * assert.throws(() => resolveTrainingConfig({ demo: true, learningRate: -1 }), /learningRate/);
 * ```
 */
export function resolveTrainingConfig(config: TrainingConfig = {}): TrainArgs {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new ConfigError(
      `Cannot use ${JSON.stringify(config)} as a training configuration: expected an object of ` +
        `settings such as { demo: true } or { modelNameOrPath, dataDir, outputDir, doTrain }`,
    );
  }
  for (const key of Object.keys(config)) {
    if (OWN.has(key) || FIELDS.has(key)) continue;
    throw new ConfigError(
      `Cannot use config field "${key}": unknown; did you mean "${closest(key, CONFIG_FIELDS)}"?`,
    );
  }
  for (const hook of HOOKS) {
    if (config[hook] !== undefined && typeof config[hook] !== "function") {
      throw new ConfigError(`Cannot use ${hook}: expected a function`);
    }
  }
  const demo = config.demo === true;
  for (const key of ["dataDir", "tasks"] as const) {
    if (demo && config[key] !== undefined) {
      throw new ConfigError(
        `Cannot use ${key} with demo: true: the demo generates its own tasks; drop ${key}, or ` +
          `drop demo to train on ${key === "dataDir" ? "that folder" : "those tasks"}`,
      );
    }
  }
  const args: TrainArgs = demo
    ? { ...defaultArgs(), ...DEMO_SETTINGS, tasks: [...DEMO_TASKS] }
    : defaultArgs();
  const fields = args as unknown as Record<string, FlagValue>;
  const has = new Set<string>(demo ? FLAGS.filter((f) => f.required).map((f) => f.name) : []);
  for (const [key, spec] of FIELDS) {
    const value = (config as Record<string, unknown>)[key];
    if (value === undefined) continue;
    fields[key] = readField(spec, value);
    has.add(spec.name);
  }
  args.given = [...has];
  try {
    return finishArgs(args, has);
  } catch (e) {
    throw e instanceof UsageError ? toConfigError(e) : e;
  }
}

/** The callbacks set in `config`. */
export function hooksOf(config: TrainingConfig): RunHooks {
  const out: RunHooks = {};
  for (const hook of HOOKS) if (config[hook]) (out as Record<string, unknown>)[hook] = config[hook];
  return out;
}
