/**
 * No dead flags: every `run.py` flag in `--help` either does what transformers 2.11 does or is
 * refused in one line. The run-time flags are shown on short runs of the embedded demo; the
 * ledger at the end says, for every flag of the table, what it drives or that it is refused,
 * and checks that each refused flag is refused.
 *
 * Flags the issue lists, and their tests: `--logging_dir` (tests/tensorboard_test.ts and the
 * default folder below), `--logging_first_step`, `--evaluate_during_training`,
 * `--overwrite_output_dir`, `--no_cuda` (below), `--local_rank`, `--tpu_num_cores`,
 * `--tpu_metrics_debug`, `--per_gpu_*`, `--fp16_opt_level` (lib/cli/args_test.ts; the O1 run
 * in tests/fp16_test.ts).
 */
import assert from "node:assert/strict";
import { parseArgs } from "../lib/cli/args.ts";
import { FLAGS, UsageError } from "../lib/cli/flags.ts";
import { validatePaths } from "../lib/train/validate_paths.ts";
import { runTraining } from "../lib/train/run.ts";
import type { TrainingConfig } from "../lib/train/config.ts";
import type { LogRecord } from "../lib/train/log.ts";
import { testGpu } from "./_util/gpu.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A 4-step demo run logging every 2 steps, without evaluation unless `over` asks. */
async function shortRun(dir: string, over: TrainingConfig) {
  const records: LogRecord[] = [];
  const result = await runTraining({
    demo: true,
    outputDir: `${dir}/out`,
    loggingDir: `${dir}/tb`,
    maxSteps: 4,
    loggingSteps: 2,
    saveSteps: 0,
    doEval: false,
    evaluateDuringTraining: false,
    ...over,
  }, { onLog: (r) => records.push(r) });
  return { records, result };
}

/** The run every flag's run is compared with: both switches off, in a folder of its own. */
const DIR = await Deno.makeTempDir();
let baseline: ReturnType<typeof shortRun> | null = null;

Deno.test({
  ...opts,
  name: "--logging_first_step logs step 1 besides every --logging_steps",
  async fn() {
    if (!(await testGpu())) return;
    const off = await (baseline ??= shortRun(DIR, {}));
    const on = await shortRun(await Deno.makeTempDir({ dir: DIR }), { loggingFirstStep: true });
    assert.deepEqual(off.records.map((r) => r.step), [2, 4]);
    assert.deepEqual(on.records.map((r) => r.step), [1, 2, 4]);
  },
});

Deno.test({
  ...opts,
  name: "--evaluate_during_training evaluates the dev sets at every logged step",
  async fn() {
    if (!(await testGpu())) return;
    const off = await (baseline ??= shortRun(DIR, {}));
    const on = await shortRun(await Deno.makeTempDir({ dir: DIR }), {
      evaluateDuringTraining: true,
    });
    assert.ok(off.records.every((r) => r.eval === undefined));
    assert.deepEqual(on.records.map((r) => Object.keys(r.eval ?? {})), [
      ["demo-sentiment", "demo-comparison", "demo-rating"],
      ["demo-sentiment", "demo-comparison", "demo-rating"],
    ]);
  },
});

Deno.test({
  ...opts,
  name: "--no_cuda asks WebGPU for the fallback (CPU) adapter",
  async fn() {
    if (!(await testGpu())) return;
    const dir = await Deno.makeTempDir({ dir: DIR });
    const gpu = navigator.gpu;
    const asked: (GPURequestAdapterOptions | undefined)[] = [];
    const original = gpu.requestAdapter;
    let real = true;
    gpu.requestAdapter = (options) => {
      asked.push(options);
      return real ? original.call(gpu, options) : Promise.resolve(null);
    };
    try {
      const cpu = await shortRun(dir, { maxSteps: 1, noCuda: true });
      assert.equal(cpu.result.adapter.isFallbackAdapter, true);
      // Without the flag only the request is checked: no adapter, so the run stops there.
      real = false;
      await assert.rejects(shortRun(dir, { noCuda: false }), /Cannot acquire a GPU/);
      assert.deepEqual(asked.map((o) => o?.forceFallbackAdapter), [true, false]);
    } finally {
      gpu.requestAdapter = original;
    }
  },
});

Deno.test({
  ...opts,
  name: "--overwrite_output_dir: training into a non-empty folder needs it; the demo implies it",
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/data/RTE`, { recursive: true });
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/keep.txt`, "x");
    const real = (...extra: string[]) =>
      parseArgs([
        "--model_name_or_path",
        "CA-MTL-tiny",
        "--data_dir",
        `${dir}/data`,
        "--tasks",
        "rte",
        "--output_dir",
        `${dir}/out`,
        ...extra,
      ]);
    await assert.rejects(
      validatePaths(real("--do_train")),
      /Cannot train into --output_dir ".*": it is not empty; add --overwrite_output_dir/,
    );
    await validatePaths(real("--do_train", "--overwrite_output_dir"));
    await validatePaths(real("--do_eval")); // HF checks only when training
    for (const demo of [parseArgs([]), parseArgs(["--fp16"])]) {
      assert.equal(demo.overwriteOutputDir, true);
      await validatePaths({ ...demo, outputDir: `${dir}/out` });
    }
    await Deno.remove(dir, { recursive: true });
    if (await testGpu()) {
      // The demo again into the baseline's folder, as `deno task train` run twice does.
      await (baseline ??= shortRun(DIR, {}));
      const again = await shortRun(DIR, { maxSteps: 2 });
      assert.equal(again.result.globalStep, 2);
    }
  },
});

/** Every flag of `--help`: what it drives, or "refused". */
const LEDGER: Record<string, string> = {
  model_name_or_path: "the model preset, folder or hub id (loadCaMtl)",
  freeze_encoder_layers: "freezeEncoderLayers",
  data_dir: "the task readers and layouts (taskData)",
  tasks: "the task list and ids",
  overwrite_cache: "the feature cache (taskData)",
  max_seq_length: "features and conditional attention's block size",
  doc_stride: "span extraction windows (taskData)",
  max_query_length: "span extraction questions (taskData)",
  max_answer_length: "span answer decoding (evaluate.ts)",
  max_train_samples: "firstExamples of training sets (taskData)",
  max_eval_samples: "firstExamples of dev and test sets (taskData)",
  use_mt_uncertainty: "the sampler (samplingMode)",
  uniform_mt_sampling: "the sampler (samplingMode)",
  percent_of_max_data_size: "the MT-Uncertainty epoch length",
  warmup_proportion: "the LinearSchedule warm-up",
  mt_sampling: "the sampler (samplingMode)",
  mt_uncertainty_score: "the MT-Uncertainty score",
  output_dir: "every output file",
  overwrite_output_dir: "validatePaths (this file)",
  do_train: "Trainer.train",
  do_eval: "Trainer.evaluate",
  do_predict: "the submission files",
  evaluate_during_training: "evaluation at logged steps (this file)",
  per_device_train_batch_size: "the training batch size",
  per_device_eval_batch_size: "the evaluation batch size",
  per_gpu_train_batch_size: "alias of the training batch size",
  per_gpu_eval_batch_size: "alias of the evaluation batch size",
  gradient_accumulation_steps: "Trainer: batches per optimizer step",
  learning_rate: "the LinearSchedule peak",
  weight_decay: "AdamW weight decay",
  adam_epsilon: "AdamW epsilon",
  max_grad_norm: "clipGradNorm",
  num_train_epochs: "Trainer.totalSteps",
  max_steps: "Trainer.totalSteps",
  warmup_steps: "refused unless 0",
  logging_dir: "TensorBoard event files (tests/tensorboard_test.ts)",
  logging_first_step: "a log record at step 1 (this file)",
  logging_steps: "the log records",
  save_steps: "checkpoints",
  save_total_limit: "checkpoint pruning",
  no_cuda: "the fallback adapter (this file)",
  seed: "initialisation, dropout and sampling",
  fp16: "autocast and loss scaling",
  fp16_opt_level: "mixedPrecision: O0 f32, O1 mixed, O2/O3 refused",
  local_rank: "refused unless -1",
  tpu_num_cores: "refused",
  tpu_metrics_debug: "refused",
  tokenizer_name: "the tokenizer (tokenizerFor)",
  cache_dir: "the feature cache folder",
  verbose: "stack traces in cli.ts",
  help: "usage()",
};

/** A value of each refused flag that must be refused. */
const REFUSED: Record<string, string[]> = {
  warmup_steps: ["--warmup_steps", "10"],
  local_rank: ["--local_rank", "0"],
  tpu_num_cores: ["--tpu_num_cores", "8"],
  tpu_metrics_debug: ["--tpu_metrics_debug"],
};

Deno.test("--help lists no flag that does nothing: each one acts or is refused", () => {
  assert.deepEqual(Object.keys(LEDGER).sort(), FLAGS.map((f) => f.name).sort());
  const required = ["--model_name_or_path", "m", "--data_dir", "d", "--output_dir", "o"];
  for (const [name, argv] of Object.entries(REFUSED)) {
    assert.match(LEDGER[name], /^refused/);
    assert.match(FLAGS.find((f) => f.name === name)!.help, /refused/, name);
    assert.throws(() => parseArgs([...required, ...argv]), (e: Error) => {
      assert.ok(e instanceof UsageError, `${name}: ${e}`);
      assert.match(e.message, new RegExp(`^Cannot run with --${name}\\b[^\\n]*; \\w`));
      return true;
    });
  }
  for (const [name, where] of Object.entries(LEDGER)) {
    if (!where.startsWith("refused")) assert.ok(!(name in REFUSED), name);
  }
});

Deno.test("run_flags_test's folders are removed", async () => {
  await Deno.remove(DIR, { recursive: true });
  assert.throws(() => Deno.statSync(DIR), Deno.errors.NotFound);
});
