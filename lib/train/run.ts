/**
 * `runTraining`: what `deno task train` does, as a library call (docs/model.md §16.2): check the
 * arguments against the model, acquire the adapter, build the tokenizer, features and model,
 * freeze, train (or resume), save, evaluate and predict, and write the usual output files.
 * It never prints; the CLI follows it through hooks.
 *
 * Outputs in `output_dir`: `model.safetensors`, `config.json`, `vocab.txt`,
 * `training_args.json`, `checkpoint-<step>/`, `eval_results_<task>.txt`, `eval_results.json`
 * (latest and best-so-far), prediction files in each benchmark's format (`prediction_files.ts`:
 * `<task>_test_iter_<step>.tsv` for GLUE, `CB.jsonl` ..., `predictions_squad.json`,
 * `wnut17_test_predictions.txt`), `log_history.jsonl`, `training_curves.svg`.
 *
 * @module
 */

import { getTask } from "../data/tasks.ts";
import { withAutocast } from "../autograd/autocast.ts";
import { type AdapterReport, requestGpu } from "../gpu/device.ts";
import { resolveModel } from "../io/hub.ts";
import { blockGeometry } from "../nn/ca_mtl/conditional.ts";
import { BASE_CHECKPOINT, BERT_BASE_CASED, BERT_LARGE_CASED } from "../nn/ca_mtl/config.ts";
import { freezeEncoderLayers } from "../nn/ca_mtl/freeze.ts";
import { CAMTL_CONFIG_KEY, caMtlConfigToJson, loadCaMtl } from "../nn/ca_mtl/pretrained.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { UsageError } from "../cli/flags.ts";
import type { TrainArgs } from "../cli/train_args.ts";
import { validatePaths } from "./validate_paths.ts";
import {
  hooksOf,
  resolveTrainingConfig,
  type RunHooks,
  toConfigError,
  type TrainingConfig,
} from "./config.ts";
import { ConsoleReporter, mergeHooks } from "./console_reporter.ts";
import { isCheckpoint } from "./checkpoint.ts";
import { OutputLock } from "./output_lock.ts";
import { saveModel } from "./checkpoint.ts";
import { predictSet } from "./evaluate.ts";
import {
  JsonlLogger,
  type LogRecord,
  writeEvalResults,
  writeJsonAtomic,
  writeTextAtomic,
} from "./log.ts";
import { writeTrainingPlot } from "./plot.ts";
import { JUPYTER_DISPLAY, runDisplay } from "./display.ts";
import { writePredictionFile } from "./prediction_files.ts";
import { defaultCacheDir, demoData, type RunData, taskData } from "./run_data.ts";
import { RunBoard } from "./tensorboard_log.ts";
import { Trainer } from "./trainer.ts";

/**
 * What a run produced. Shown in a Jupyter notebook, it displays its metrics as a table and its
 * training curves.
 */
export interface RunResult {
  /** The folder every output file was written to. */
  outputDir: string;
  /** Optimizer steps the model has taken, including those of a checkpoint it resumed from. */
  globalStep: number;
  /** Latest dev metrics per task (empty without `--do_eval`). */
  evalResults: Record<string, Record<string, number>>;
  /** Best-so-far dev metrics per task over every evaluation of the run. */
  best: Record<string, Record<string, number>>;
  /** Files written, relative to `outputDir`. */
  files: string[];
  /** The adapter the run used. */
  adapter: AdapterReport;
  /** Every logged record (losses, learning rates, evaluations), as in `log_history.jsonl`. */
  logHistory: LogRecord[];
}

const PRESET_SIZES: Record<string, { hidden: number; layers: number }> = {
  "CA-MTL-base": { hidden: BERT_BASE_CASED.hiddenSize, layers: BERT_BASE_CASED.numHiddenLayers },
  "CA-MTL-large": { hidden: BERT_LARGE_CASED.hiddenSize, layers: BERT_LARGE_CASED.numHiddenLayers },
  "CA-MTL-tiny": { hidden: 128, layers: 4 },
};

/** Hidden size, layer count and whether the model is CA-MTL, without loading weights. */
async function modelShape(name: string) {
  if (name in PRESET_SIZES) return { ...PRESET_SIZES[name], caMtl: true };
  try {
    const json = JSON.parse(await Deno.readTextFile(`${name}/config.json`));
    return {
      hidden: json.hidden_size as number,
      layers: json.num_hidden_layers as number,
      caMtl: json[CAMTL_CONFIG_KEY]?.architecture?.startsWith("CA-MTL") ?? false,
    };
  } catch {
    return null; // a hub id: checked once it is resolved
  }
}

/** Flag checks that need the model's sizes, as one-line usage errors. */
async function checkAgainstModel(args: TrainArgs): Promise<void> {
  const shape = await modelShape(args.modelNameOrPath);
  if (!shape) return;
  if (shape.caMtl) {
    try {
      blockGeometry(shape.hidden, args.maxSeqLength);
    } catch (e) {
      throw new UsageError(
        `Cannot use --max_seq_length ${args.maxSeqLength} with ${args.modelNameOrPath}: ${
          (e as Error).message.replace(/^Cannot build conditional attention: /, "")
        }`,
      );
    }
  }
  const range = args.freezeEncoderLayers;
  if (range) {
    const end = Number(range.split("-")[1]);
    if (end >= shape.layers) {
      throw new UsageError(
        `Cannot use --freeze_encoder_layers ${range}: ${args.modelNameOrPath} has ${shape.layers} ` +
          `layers (0-${shape.layers - 1})`,
      );
    }
  }
}

/**
 * The folder of a model or tokenizer name: a folder, the hub cache, or a download of a hub id
 * found in neither (as `run.py`'s `from_pretrained` does; `HF_HUB_OFFLINE=1` forbids it). The
 * run's one download step, announced when it downloads; loading itself never downloads.
 */
async function fetchModel(name: string, hooks: RunHooks): Promise<string> {
  const found = await resolveModel(BASE_CHECKPOINT[name] ?? name, { download: true });
  if (found.source === "download") {
    hooks.onInfo?.(`Downloaded "${found.repoId}" from the Hugging Face hub into ${found.folder}`);
  }
  return found.folder;
}

async function tokenizerFor(
  args: TrainArgs,
  modelFolder: string | null,
  hooks: RunHooks,
): Promise<BertTokenizer> {
  const name = args.tokenizerName ?? modelFolder ??
    (args.modelNameOrPath === "CA-MTL-tiny" ? "bert-base-cased" : args.modelNameOrPath);
  return await BertTokenizer.fromFolder(await fetchModel(name, hooks), { nameHint: name });
}

/** The tokenizer files saved with the model, so that a folder or checkpoint is self-contained. */
function tokenizerFiles(tokenizer: BertTokenizer): Record<string, string> {
  return {
    "vocab.txt": tokenizer.vocab.tokens.join("\n") + "\n",
    "tokenizer_config.json": JSON.stringify({ do_lower_case: tokenizer.doLowerCase }) + "\n",
  };
}

/**
 * Whether `args` ask for mixed precision, by apex's opt levels (HF 2.11 passes
 * `--fp16_opt_level` to `amp.initialize`): O1 is camtl's mixed precision; O0 is apex's "pure
 * f32" and trains in f32; O2 and O3 (f16 model weights; O3 without f32 master weights) are
 * refused rather than silently run as something else. Without `--fp16` the level is ignored,
 * as in HF.
 *
 * @throws {UsageError} for `--fp16` with O2 or O3
 */
export function mixedPrecision(args: Pick<TrainArgs, "fp16" | "fp16OptLevel">): boolean {
  if (!args.fp16) return false;
  if (args.fp16OptLevel === "O2" || args.fp16OptLevel === "O3") {
    throw new UsageError(
      `Cannot use --fp16_opt_level ${args.fp16OptLevel}: camtl implements O1 (f16 matmuls, f32 ` +
        `weights and the rest); use O1, or O0 for f32`,
    );
  }
  return args.fp16OptLevel !== "O0";
}

/**
 * Runs training, evaluation and prediction as `config` asks, and writes the usual output files.
 *
 * @param config the run's settings (see {@linkcode TrainingConfig})
 * @param hooks callbacks, in addition to those set in `config`
 * @throws {ConfigError} for settings that cannot work together, with the model or with the
 *   files, naming the field
 * @throws {GpuUnavailableError}, {CheckpointError}, {DataError} and {HubError} as their sources
 * @throws {OutputLockedError} when another live run writes into `outputDir`
 * @example The embedded demo, shortened, with a progress bar
 * ```ts ignore
 * const result = await runTraining({ demo: true, maxSteps: 60, outputDir: "runs/nb", progress: true });
 * console.log(result.evalResults["demo-sentiment"]);
 * ```
 */
export async function runTraining(
  config: TrainingConfig,
  hooks: RunHooks = {},
): Promise<RunResult> {
  const args = resolveTrainingConfig(config);
  const reporter = config.progress ? new ConsoleReporter() : null;
  try {
    const result = await run(args, mergeHooks(reporter?.hooks ?? {}, hooksOf(config), hooks));
    reporter?.finish(result);
    return result;
  } catch (e) {
    reporter?.abort();
    throw e instanceof UsageError ? toConfigError(e) : e;
  }
}

/**
 * What the CLI runs: {@linkcode runTraining} on settings already parsed from the command line,
 * whose errors name flags rather than fields.
 */
export function runParsedArgs(args: TrainArgs, hooks: RunHooks = {}): Promise<RunResult> {
  return run(args, hooks);
}

async function run(args: TrainArgs, hooks: RunHooks): Promise<RunResult> {
  await OutputLock.assertFree(args.outputDir); // a live run's folder: refused before anything
  if (!args.demo) await validatePaths(args);
  await checkAgainstModel(args);
  const fp16 = mixedPrecision(args);
  const lock = await OutputLock.acquire(args.outputDir, hooks.onInfo);
  const gpu = await requestGpu({ forceFallbackAdapter: args.noCuda }).catch(async (e) => {
    await lock.release();
    throw e;
  });
  hooks.onAdapter?.(gpu.adapter);
  const files: string[] = [];
  try {
    if (fp16) {
      if (!gpu.hasF16) {
        throw new UsageError(
          `Cannot use --fp16: adapter "${gpu.adapter.description}" lacks the "shader-f16" ` +
            `feature; drop --fp16 to train in f32`,
        );
      }
      hooks.onInfo?.(
        "Precision: --fp16 O1: f16 matmul operands with f32 accumulation, f32 weights and " +
          "everything else, dynamic loss scaling from 2^16",
      );
    }
    await Deno.mkdir(args.outputDir, { recursive: true });
    const resumeFrom = await isCheckpoint(args.modelNameOrPath) ? args.modelNameOrPath : null;
    const splits = {
      train: args.doTrain,
      dev: args.doEval || args.evaluateDuringTraining,
      test: args.doPredict,
    };
    // Downloaded here, if at all: loadCaMtl below reads the folder or the cache only.
    const modelFolder = args.modelNameOrPath === "CA-MTL-tiny"
      ? null
      : await fetchModel(args.modelNameOrPath, hooks);
    let data: RunData;
    if (args.demo) {
      data = await demoData({ seed: args.seed, maxSeqLength: args.maxSeqLength, splits });
      hooks.onInfo?.(
        `Data: the embedded synthetic suite (${data.tasks.join(", ")}), generated in memory`,
      );
    } else {
      const tokenizer = await tokenizerFor(args, modelFolder, hooks);
      data = await taskData({
        ...args,
        dataDir: args.dataDir!,
        tokenizer,
        cacheDir: args.cacheDir ?? defaultCacheDir(),
        splits,
      });
      hooks.onInfo?.(`Data: ${data.tasks.join(", ")} from ${args.dataDir}`);
      for (const line of data.missing) hooks.onInfo?.(`Data: ${line}: that split is skipped`);
    }
    const taskSpecs = data.tasks.map((name) => ({ name, numLabels: getTask(name).numLabels }));
    const { model, report } = await loadCaMtl(args.modelNameOrPath, {
      gpu,
      tasks: taskSpecs,
      maxSeqLength: args.maxSeqLength,
      seed: args.seed,
      vocabSize: data.tokenizer.vocabSize,
      vocabSource: data.tokenizer.vocab.source,
    });
    if (report) {
      hooks.onInfo?.(
        `Model: ${args.modelNameOrPath}: ${report.loaded.length} tensors loaded, ${report.missing.length} newly initialised, ${report.unused.length} unused`,
      );
    }
    if (args.freezeEncoderLayers) {
      freezeEncoderLayers(model.bert, args.freezeEncoderLayers, model.config.bert.numHiddenLayers);
    }
    const counts = model.countParameters();
    hooks.onInfo?.(
      `Parameters: ${counts.total.toLocaleString("en")} total, ${
        counts.trainable.toLocaleString("en")
      } trainable, ${counts.frozen.toLocaleString("en")} frozen`,
    );
    const modelConfig = caMtlConfigToJson(model.config);
    let logger: JsonlLogger | null = null;
    let board: RunBoard | null = null;
    const trainer = new Trainer(
      gpu,
      model,
      { train: data.train, dev: data.dev },
      { ...args, modelConfig, checkpointFiles: tokenizerFiles(data.tokenizer), fp16 },
      {
        onStep: hooks.onStep,
        onLog: (record) => {
          hooks.onLog?.(record);
          logger?.append(record);
          board?.append(record);
        },
      },
    );
    if (resumeFrom) {
      await trainer.resume(resumeFrom);
      hooks.onInfo?.(`Resuming from ${resumeFrom} at step ${trainer.globalStep}`);
    }
    // A fresh run starts a new log; a resumed one keeps the records up to its checkpoint.
    logger = JsonlLogger.open(`${args.outputDir}/log_history.jsonl`, {
      resumeAtStep: trainer.globalStep,
    });
    board = RunBoard.open(args.loggingDir, args, trainer.globalStep);
    hooks.onInfo?.(`TensorBoard: tensorboard --logdir ${board.writer.logDir}`);
    if (args.doTrain) {
      await trainer.train();
      await saveModel(args.outputDir, model, modelConfig);
      for (const [name, text] of Object.entries(tokenizerFiles(data.tokenizer))) {
        await writeTextAtomic(`${args.outputDir}/${name}`, text);
        files.push(name);
      }
      await writeJsonAtomic(`${args.outputDir}/training_args.json`, args);
      files.push("model.safetensors", "config.json", "training_args.json", "log_history.jsonl");
    }
    let evalResults: Record<string, Record<string, number>> = {};
    if (args.doEval) {
      evalResults = await trainer.evaluate();
      // As HF logs evaluations: into the history, so the JSONL and the plot show them.
      const last = trainer.logHistory.at(-1);
      if (!(last?.eval && last.step === trainer.globalStep)) {
        const record = {
          step: trainer.globalStep,
          epoch: last?.epoch ?? 0,
          eval: evalResults,
          best: structuredClone(trainer.best),
        };
        trainer.logHistory.push(record);
        logger.append(record);
        board.append(record);
      }
      for (const [task, metrics] of Object.entries(evalResults)) {
        await writeEvalResults(args.outputDir, task, metrics);
        files.push(`eval_results_${task}.txt`);
      }
      // SQuAD's predictions are of its dev set (it has no public test set), as run_squad's.
      for (const set of data.dev) {
        const predictions = trainer.devPredictions.get(set.task);
        if (predictions?.kind !== "span-extraction") continue;
        files.push(await writePredictionFile(args.outputDir, set, predictions, trainer.globalStep));
      }
      await writeJsonAtomic(`${args.outputDir}/eval_results.json`, {
        global_step: trainer.globalStep,
        latest: evalResults,
        best_so_far: trainer.best,
      });
      files.push("eval_results.json");
    }
    if (args.doPredict) {
      for (const set of data.test) {
        const { predictions } = await withAutocast(
          gpu,
          () =>
            predictSet(gpu, model, set, {
              batchSize: args.perDeviceEvalBatchSize,
              span: { maxAnswerLength: args.maxAnswerLength },
            }),
          fp16,
        );
        files.push(await writePredictionFile(args.outputDir, set, predictions, trainer.globalStep));
      }
    }
    if (trainer.logHistory.length > 0) {
      await writeTrainingPlot(`${args.outputDir}/training_curves.svg`, trainer.logHistory);
      files.push("training_curves.svg");
    }
    const result: RunResult = {
      outputDir: args.outputDir,
      globalStep: trainer.globalStep,
      evalResults,
      best: trainer.best,
      files,
      adapter: gpu.adapter,
      logHistory: trainer.logHistory,
    };
    // In a notebook, a cell ending with the result shows its metrics and curves.
    Object.defineProperty(result, JUPYTER_DISPLAY, { value: () => runDisplay(result) });
    logger.close();
    board.close();
    trainer.dispose();
    model.dispose();
    return result;
  } finally {
    gpu.destroy();
    await lock.release();
  }
}
