/**
 * The settings of a run as the flags give them ({@linkcode TrainArgs}): HF 2.11 defaults, and
 * the checks that look at several flags at once. `args.ts` fills them from the command line,
 * `lib/train/config.ts` from a typed configuration.
 *
 * @module
 */

import { GLUE_TASKS } from "../data/glue_tasks.ts";
import type { SamplingMode } from "../data/sampler.ts";
import { checkLayerRange, checkTasks, FLAGS, type FlagValue, UsageError } from "./flags.ts";

/** Parsed arguments: each flag's camelCase field, plus what the parser worked out. */
export interface TrainArgs {
  /** True for the embedded demo (no arguments): synthetic data, small-run settings. */
  demo: boolean;
  /** `--help`/`-h` was given: print {@linkcode usage} and exit 0; other fields are defaults. */
  help: boolean;
  /** Flags given explicitly (command line or JSON file), without dashes. */
  given: string[];
  /** What supplies training batches (docs/model.md §12.1), from the three sampling flags. */
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
  /** In task-id order; `--tasks` absent gives the 9 GLUE tasks of docs/model.md §14.1. */
  tasks: string[];
  /** `--overwrite_cache`: rebuild the cached features instead of reading them. */
  overwriteCache: boolean;
  /** `--max_seq_length`: inputs are truncated to this many tokens. */
  maxSeqLength: number;
  /** `--doc_stride`: span extraction, tokens between the starts of a context's windows. */
  docStride: number;
  /** `--max_query_length`: span extraction, question tokens kept. */
  maxQueryLength: number;
  /** `--max_answer_length`: span extraction, the longest answer in tokens. */
  maxAnswerLength: number;
  /** `--max_train_samples`: the first N training examples of each task; null keeps all. */
  maxTrainSamples: number | null;
  /** `--max_eval_samples`: the first N dev and test examples of each task; null keeps all. */
  maxEvalSamples: number | null;
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

/** The sampler the flags ask for (docs/model.md §12.1). */
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
