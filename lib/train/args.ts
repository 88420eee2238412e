/**
 * Command-line arguments of `deno task train`, compatible with the released `run.py`, which
 * parses CaMtlArguments, MultiTaskDataArguments and MultiTaskTrainingArguments with the
 * transformers 2.11 `HfArgumentParser` (spec section 7; the flag table is `_args_table.ts`):
 *
 * - `--flag value` and `--flag=value`; booleans are bare switches (`--do_train`), as 2.11's
 *   `store_true`; `--tasks a b c` takes values up to the next flag; a repeated flag's last
 *   value wins;
 * - a lone argument ending in `.json` is a file of arguments keyed by flag name, as
 *   `HfArgumentParser.parse_json_file` reads it;
 * - no arguments at all give the embedded demo (`CA-MTL-tiny` on a generated suite).
 *
 * Where 2.11 silently dropped input (unknown flags, unknown JSON keys, stray words) this
 * parser fails with a one-line {@linkcode UsageError} that names the closest flag.
 *
 * @module
 */

import { GLUE_FOLDERS, GLUE_TASKS, type GlueTaskName } from "../data/glue_tasks.ts";
import type { SamplingMode } from "../data/sampler.ts";
import { LOCK_FILE } from "./output_lock.ts";
import {
  checkLayerRange,
  checkTasks,
  closest,
  DEMO_SETTINGS,
  DEMO_TASKS,
  expected,
  FLAG_BY_NAME,
  FLAGS,
  flagSections,
  type FlagSpec,
  type FlagValue,
  readJsonValue,
  readList,
  readValue,
  UsageError,
} from "./_args_table.ts";

export { defaultLoggingDir, DEMO_TASKS, UsageError } from "./_args_table.ts";

/** Parsed arguments: each flag's camelCase field, plus what the parser worked out. */
export interface TrainArgs {
  /** True for the embedded demo (no arguments): synthetic data, small-run settings. */
  demo: boolean;
  /** `--help`/`-h` was given: print {@linkcode usage} and exit 0; other fields are defaults. */
  help: boolean;
  /** Flags given explicitly (command line or JSON file), without dashes. */
  given: string[];
  /** What supplies training batches (spec decision 8), from the three sampling flags. */
  samplingMode: SamplingMode;
  /** `--verbose`: the CLI prints stack traces with errors. */
  verbose: boolean;
  /** `--tokenizer_name`: null uses the model's tokenizer (bert-base-cased for CA-MTL-tiny). */
  tokenizerName: string | null;
  /** `--cache_dir`: null uses `$CAMTL_CACHE` or `~/.cache/camtl/features`. */
  cacheDir: string | null;
  /** `--model_name_or_path`: CA-MTL-base, CA-MTL-large, CA-MTL-tiny, or a BERT folder or hub id. */
  modelNameOrPath: string;
  /** `START-END`, format-checked here; the layer count is checked when the model exists. */
  freezeEncoderLayers: string | null;
  /** Null only in the demo: the generated synthetic suite. */
  dataDir: string | null;
  /** In task-id order; `--tasks` absent gives the 9 GLUE tasks of spec decision 15. */
  tasks: string[];
  /** `--overwrite_cache`: rebuild the cached features instead of reading them. */
  overwriteCache: boolean;
  /** `--max_seq_length`: inputs are truncated to this many tokens. */
  maxSeqLength: number;
  /** `--use_mt_uncertainty`: MT-Uncertainty sampling. */
  useMtUncertainty: boolean;
  /**
   * `--uniform_mt_sampling`: a uniformly drawn task per batch, or with MT-Uncertainty the shorter
   * epoch.
   */
  uniformMtSampling: boolean;
  /**
   * `--percent_of_max_data_size`: the MT-Uncertainty epoch as a fraction of max task batches ×
   * tasks.
   */
  percentOfMaxDataSize: number;
  /** `--warmup_proportion`: fraction of all steps spent in linear warm-up. */
  warmupProportion: number;
  /** `--mt_sampling` as given; {@linkcode TrainArgs.samplingMode} is the one to act on. */
  mtSampling: "sequential" | "uniform" | "proportional" | null;
  /** `--mt_uncertainty_score`: the released code's score or the paper's. */
  mtUncertaintyScore: "code" | "paper";
  /** `--output_dir`: where checkpoints, metrics, predictions and logs go. */
  outputDir: string;
  /** `--overwrite_output_dir`: allow an `outputDir` that is not empty. */
  overwriteOutputDir: boolean;
  /** `--do_train`: train the model. */
  doTrain: boolean;
  /** `--do_eval`: evaluate on every task's dev set. */
  doEval: boolean;
  /** `--do_predict`: write test-set predictions. */
  doPredict: boolean;
  /** `--evaluate_during_training`: evaluate every `loggingSteps` steps. */
  evaluateDuringTraining: boolean;
  /** The batch size to use: `--per_gpu_train_batch_size` when that alias was given. */
  perDeviceTrainBatchSize: number;
  /** The batch size to use: `--per_gpu_eval_batch_size` when that alias was given. */
  perDeviceEvalBatchSize: number;
  /** `--per_gpu_train_batch_size` as given (a deprecated alias), or null. */
  perGpuTrainBatchSize: number | null;
  /** `--per_gpu_eval_batch_size` as given (a deprecated alias), or null. */
  perGpuEvalBatchSize: number | null;
  /** `--gradient_accumulation_steps`: batches summed per optimizer step. */
  gradientAccumulationSteps: number;
  /** `--learning_rate`: the peak AdamW learning rate. */
  learningRate: number;
  /** `--weight_decay`: AdamW decoupled weight decay (not on biases and LayerNorm weights). */
  weightDecay: number;
  /** `--adam_epsilon`. */
  adamEpsilon: number;
  /** `--max_grad_norm`: global L2 norm the gradients are clipped to. */
  maxGradNorm: number;
  /** `--num_train_epochs` (a fraction is allowed). */
  numTrainEpochs: number;
  /** > 0 overrides {@linkcode TrainArgs.numTrainEpochs}. */
  maxSteps: number;
  /** Always 0: any other value is refused (the schedule uses `warmupProportion`). */
  warmupSteps: number;
  /** Null: {@linkcode defaultLoggingDir}. */
  loggingDir: string | null;
  /** `--logging_first_step`: also log the first step. */
  loggingFirstStep: boolean;
  /** 0 never logs. */
  loggingSteps: number;
  /** 0 never saves. */
  saveSteps: number;
  /** Null keeps every checkpoint (a value ≤ 0 is read as null, as HF does). */
  saveTotalLimit: number | null;
  /** `--no_cuda`: run on the fallback (CPU) adapter. */
  noCuda: boolean;
  /** `--seed`: of initialisation, dropout and sampling. */
  seed: number;
  /** `--fp16`: mixed precision (f16 matmul operands, loss scaling). */
  fp16: boolean;
  /** `--fp16_opt_level`: O1 (mixed) or O0 (f32); O2 and O3 are refused. */
  fp16OptLevel: string;
  /** Always -1 (one process). */
  localRank: number;
  /** Always null (no TPU). */
  tpuNumCores: number | null;
  /** Always false (no TPU). */
  tpuMetricsDebug: boolean;
}

/**
 * Parses `deno task train` arguments.
 *
 * @param argv the arguments after the script name
 * @returns HF 2.11 defaults overridden by `argv`; for an empty `argv`, the demo settings
 * @throws {UsageError} for an unknown flag or task, a bad value, a missing required flag,
 *   a distributed or TPU setting, or conflicting flags
 *
 * @example The seed README's command
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 * const args = parseArgs(["--model_name_or_path", "CA-MTL-base", "--data_dir", "glue",
 *   "--output_dir=out", "--do_train", "--learning_rate", "2e-5", "--tasks", "cola", "sst-2"]);
 * assert.equal(args.learningRate, 2e-5);
 * assert.deepEqual(args.tasks, ["cola", "sst-2"]);
 * assert.equal(args.perDeviceTrainBatchSize, 8);
 * assert.equal(parseArgs([]).demo, true);
 * ```
 */
export function parseArgs(argv: readonly string[]): TrainArgs {
  if (argv.length === 0) return { ...defaultArgs(), ...DEMO_SETTINGS, tasks: [...DEMO_TASKS] };
  const fp16Demo = demoPrecision(argv);
  if (fp16Demo) {
    return {
      ...defaultArgs(),
      ...DEMO_SETTINGS,
      tasks: [...DEMO_TASKS],
      outputDir: "runs/demo-fp16",
      fp16: true,
      fp16OptLevel: fp16Demo,
    };
  }
  if (argv.includes("--help") || argv.includes("-h")) return { ...defaultArgs(), help: true };
  const json = argv.length === 1 && argv[0].endsWith(".json");
  return resolve(json ? readJsonFile(argv[0]) : readArgv(argv));
}

/**
 * The opt level when `argv` is only `--fp16` (optionally with `--fp16_opt_level L`): the
 * embedded demo in mixed precision, written to `runs/demo-fp16`. Null for any other argv.
 */
function demoPrecision(argv: readonly string[]): string | null {
  const rest = argv.filter((a) => a !== "--fp16");
  if (rest.length === argv.length || argv.length - rest.length > 1) return null;
  let level = "O1";
  if (rest.length === 2 && rest[0] === "--fp16_opt_level") level = rest[1];
  else if (rest.length === 1 && rest[0].startsWith("--fp16_opt_level=")) level = rest[0].slice(17);
  else if (rest.length > 0) return null;
  if (!["O0", "O1", "O2", "O3"].includes(level)) {
    throw new UsageError(
      `Cannot use --fp16_opt_level "${level}": expected one of O0, O1, O2, O3`,
    );
  }
  return level;
}

/**
 * The `--help` text: usage lines, then every flag with its default, grouped by the released
 * code's argument dataclasses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usage } from "./args.ts";
 * assert.match(usage(), /--use_mt_uncertainty/);
 * ```
 */
export function usage(): string {
  return [
    "Usage: deno task train [FLAGS]     train/evaluate/predict as the released run.py does",
    "       deno task train ARGS.json   the same flags as JSON keys without dashes",
    "       deno task train             no arguments: the embedded demo (CA-MTL-tiny on a",
    "                                   generated synthetic suite, written to runs/demo,",
    "                                   overwriting it: the demo implies --overwrite_output_dir)",
    "       deno task train --fp16      the demo in mixed precision, written to runs/demo-fp16",
    "",
    "Switches take no value (--do_train). Values: --flag value or --flag=value.",
    ...flagSections(),
  ].join("\n") + "\n";
}

/**
 * Checks what needs the file system: `--data_dir` (and each task's folder in it) exists,
 * and `--output_dir` is a folder and, when training without `--overwrite_output_dir`, empty.
 *
 * @throws {UsageError} naming the path and the fix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs, UsageError, validatePaths } from "./args.ts";
 * const args = parseArgs(["--model_name_or_path", "CA-MTL-tiny", "--data_dir", "/no/such/dir",
 *   "--output_dir", "/no/such/out"]);
 * await assert.rejects(validatePaths(args), UsageError);
 * ```
 */
export async function validatePaths(args: TrainArgs): Promise<void> {
  if (args.help) return;
  if (args.dataDir !== null) {
    const data = await statOrNull(args.dataDir, "--data_dir");
    const fix = "pass the folder that holds the GLUE task folders (CoLA, MNLI, ...), " +
      "or run with no arguments for the synthetic demo";
    if (data === null) {
      throw new UsageError(`Cannot read --data_dir "${args.dataDir}": it does not exist; ${fix}`);
    }
    if (!data.isDirectory) {
      throw new UsageError(`Cannot read --data_dir "${args.dataDir}": it is not a folder; ${fix}`);
    }
    if (args.doTrain || args.doEval || args.doPredict || args.evaluateDuringTraining) {
      for (const task of args.tasks) {
        const folder = GLUE_FOLDERS[task as GlueTaskName];
        if (folder === undefined) continue;
        const path = `${args.dataDir.replace(/[\\/]+$/, "")}/${folder}`;
        if ((await statOrNull(path, "--data_dir"))?.isDirectory) continue;
        throw new UsageError(
          `Cannot read task "${task}" from --data_dir "${args.dataDir}": folder "${path}" is ` +
            `missing; add it (GLUE download layout) or drop "${task}" from --tasks`,
        );
      }
    }
  }
  const out = await statOrNull(args.outputDir, "--output_dir");
  if (out !== null && !out.isDirectory) {
    throw new UsageError(
      `Cannot write to --output_dir "${args.outputDir}": it is a file; choose a folder`,
    );
  }
  if (out !== null && args.doTrain && !args.overwriteOutputDir && await hasEntries(args)) {
    throw new UsageError(
      `Cannot train into --output_dir "${args.outputDir}": it is not empty; ` +
        `add --overwrite_output_dir or choose another folder`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** HF defaults with required strings empty and `--tasks` resolved to the GLUE list. */
export function defaultArgs(): TrainArgs {
  const out: Record<string, FlagValue> = {};
  for (const f of FLAGS) out[f.key] = Array.isArray(f.default) ? [...f.default] : f.default;
  return {
    ...(out as unknown as TrainArgs),
    modelNameOrPath: "",
    outputDir: "",
    tasks: [...GLUE_TASKS],
    demo: false,
    help: false,
    given: [],
    samplingMode: "sequential",
  };
}

/** A token that names a flag; `-1` and `-.5` are values, as argparse reads them. */
function isFlag(token: string): boolean {
  return token.length > 1 && token.startsWith("-") && !/^-\.?\d/.test(token);
}

function readArgv(argv: readonly string[]): Map<FlagSpec, FlagValue> {
  const out = new Map<FlagSpec, FlagValue>();
  let lastSwitch: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!isFlag(token)) {
      if (token.endsWith(".json")) {
        throw new UsageError(
          `Cannot read arguments file "${token}": a .json file must be the only argument`,
        );
      }
      if (lastSwitch !== null) {
        throw new UsageError(
          `Cannot parse "${lastSwitch} ${token}": "${lastSwitch}" is a switch and takes no ` +
            `value; write "${lastSwitch}" alone for true and leave it out for false`,
        );
      }
      throw new UsageError(`Cannot parse argument "${token}": it is not a flag (flags start --)`);
    }
    lastSwitch = null;
    const eq = token.indexOf("=");
    const name = eq < 0 ? token : token.slice(0, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const spec = name.startsWith("--") ? FLAG_BY_NAME.get(name.slice(2)) : undefined;
    if (spec === undefined) {
      const near = closest(name.replace(/^-+/, ""), FLAGS.map((f) => f.name));
      throw new UsageError(`Cannot parse "${name}": unknown flag; did you mean "--${near}"?`);
    }
    if (spec.kind === "bool") {
      if (inline !== undefined) {
        throw new UsageError(
          `Cannot parse "${token}": "${name}" is a switch and takes no value; write "${name}" alone`,
        );
      }
      out.set(spec, true);
      lastSwitch = name;
    } else if (spec.kind === "list") {
      const values = inline === undefined ? [] : [inline];
      while (i + 1 < argv.length && !isFlag(argv[i + 1])) values.push(argv[++i]);
      out.set(spec, readList(spec, values));
    } else {
      if (inline === undefined && (i + 1 >= argv.length || isFlag(argv[i + 1]))) {
        throw new UsageError(`Cannot parse "${name}": it needs a value (${expected(spec)})`);
      }
      out.set(spec, readValue(spec, inline ?? argv[++i]));
    }
  }
  return out;
}

function readJsonFile(path: string): Map<FlagSpec, FlagValue> {
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "it does not exist" : (e as Error).message;
    throw new UsageError(`Cannot read arguments file "${path}": ${why}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(
      `Cannot read arguments file "${path}": expected a JSON object of flag names and values`,
    );
  }
  const out = new Map<FlagSpec, FlagValue>();
  for (const [key, value] of Object.entries(data)) {
    const spec = FLAG_BY_NAME.get(key);
    if (spec === undefined) {
      const near = closest(key, FLAGS.map((f) => f.name));
      throw new UsageError(
        `Cannot read key "${key}" of "${path}": unknown argument; did you mean "${near}"?`,
      );
    }
    if (value !== null || spec.default !== null) out.set(spec, readJsonValue(spec, value, path));
  }
  return out;
}

/** Defaults + given values, then the checks that look at several flags. */
function resolve(given: Map<FlagSpec, FlagValue>): TrainArgs {
  const args = defaultArgs();
  const fields = args as unknown as Record<string, FlagValue>;
  for (const [spec, value] of given) fields[spec.key] = value;
  const has = new Set([...given.keys()].map((f) => f.name));
  args.given = [...has];
  return finishArgs(args, has);
}

/**
 * The checks that look at several flags, and what follows from them (the batch-size aliases,
 * the sampling mode); `has` names the flags that were given.
 *
 * @throws {UsageError} for a missing required flag or conflicting flags
 */
export function finishArgs(args: TrainArgs, has: ReadonlySet<string>): TrainArgs {
  if (args.localRank !== -1) {
    throw new UsageError(
      `Cannot run with --local_rank ${args.localRank}: distributed training is not supported; ` +
        `run one process and drop --local_rank`,
    );
  }
  if (args.tpuNumCores !== null) {
    throw new UsageError(
      `Cannot run with --tpu_num_cores ${args.tpuNumCores}: TPU training is not supported; ` +
        `drop --tpu_num_cores to train on the WebGPU adapter`,
    );
  }
  if (args.tpuMetricsDebug) {
    throw new UsageError(
      "Cannot run with --tpu_metrics_debug: it reports TPU metrics and TPU training is not " +
        "supported; drop it",
    );
  }
  if (args.warmupSteps !== 0) {
    throw new UsageError(
      `Cannot run with --warmup_steps ${args.warmupSteps}: the released CA-MTL trainer warms up ` +
        `over --warmup_proportion of all steps and ignores --warmup_steps; use ` +
        `--warmup_proportion instead`,
    );
  }
  const missing = FLAGS.filter((f) => f.required && !has.has(f.name)).map((f) => `--${f.name}`);
  if (missing.length > 0) {
    throw new UsageError(
      `Cannot start: missing required ${missing.length > 1 ? "flags" : "flag"} ` +
        `${missing.join(", ")}; see --help, or run with no arguments for the embedded demo`,
    );
  }
  for (const split of ["train", "eval"] as const) {
    const alias = `per_gpu_${split}_batch_size`, name = `per_device_${split}_batch_size`;
    if (has.has(alias) && has.has(name)) {
      throw new UsageError(
        `Cannot use "--${alias}" with "--${name}": the first is a deprecated alias of the ` +
          `second; keep only --${name}`,
      );
    }
    const value = split === "train" ? args.perGpuTrainBatchSize : args.perGpuEvalBatchSize;
    if (value !== null && split === "train") args.perDeviceTrainBatchSize = value;
    if (value !== null && split === "eval") args.perDeviceEvalBatchSize = value;
  }
  args.samplingMode = samplingModeOf(args);
  if (args.saveTotalLimit !== null && args.saveTotalLimit <= 0) args.saveTotalLimit = null;
  if (has.has("tasks")) checkTasks(args.tasks);
  if (args.freezeEncoderLayers !== null) checkLayerRange(args.freezeEncoderLayers);
  return args;
}

/** Spec decision 8. */
function samplingModeOf(args: TrainArgs): SamplingMode {
  const chosen = args.mtSampling;
  if (args.useMtUncertainty) {
    if (chosen !== null) {
      throw new UsageError(
        `Cannot use "--mt_sampling ${chosen}" with "--use_mt_uncertainty": --mt_sampling picks ` +
          `the sampler used without MT-Uncertainty; drop one of them`,
      );
    }
    return "mt-uncertainty";
  }
  if (args.uniformMtSampling && chosen !== null && chosen !== "uniform") {
    throw new UsageError(
      `Cannot use "--uniform_mt_sampling" with "--mt_sampling ${chosen}": they ask for ` +
        `different samplers; keep one of them`,
    );
  }
  return chosen ?? (args.uniformMtSampling ? "uniform" : "sequential");
}

async function statOrNull(path: string, flag: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`Cannot read ${flag} "${path}": ${(e as Error).message}`);
  }
}

async function hasEntries(args: TrainArgs): Promise<boolean> {
  for await (const e of Deno.readDir(args.outputDir)) if (e.name !== LOCK_FILE) return true;
  return false;
}
