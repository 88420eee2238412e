import assert from "node:assert/strict";
import { parseArgs } from "./args.ts";
import { defaultLoggingDir, DEMO_TASKS, FLAGS, UsageError } from "./flags.ts";
import { usage } from "./help.ts";
import type { TrainArgs } from "./train_args.ts";
import { mixedPrecision } from "../train/run.ts";

const REQUIRED = [
  "--model_name_or_path",
  "CA-MTL-base",
  "--data_dir",
  "glue",
  "--output_dir",
  "out",
];

// docs/model.md §16.1, §12.1 and §14.1, written out independently of the flag table.
const SPEC_DEFAULTS: Record<string, unknown> = {
  freeze_encoder_layers: null,
  tasks: ["cola", "mnli", "rte", "wnli", "qqp", "sts-b", "sst-2", "qnli", "mrpc"],
  overwrite_cache: false,
  max_seq_length: 128,
  doc_stride: 128, // HF run_squad's
  max_query_length: 64,
  max_answer_length: 30,
  max_train_samples: null, // HF examples': all
  max_eval_samples: null,
  use_mt_uncertainty: false,
  uniform_mt_sampling: false,
  percent_of_max_data_size: 1.0,
  warmup_proportion: 0.1,
  mt_sampling: null,
  mt_uncertainty_score: "code",
  overwrite_output_dir: false,
  do_train: false,
  do_eval: false,
  do_predict: false,
  evaluate_during_training: false,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 8,
  per_gpu_train_batch_size: null,
  per_gpu_eval_batch_size: null,
  gradient_accumulation_steps: 1,
  learning_rate: 5e-5,
  weight_decay: 0,
  adam_epsilon: 1e-8,
  max_grad_norm: 1.0,
  num_train_epochs: 3.0,
  max_steps: -1,
  warmup_steps: 0,
  logging_dir: null,
  logging_first_step: false,
  logging_steps: 500,
  save_steps: 500,
  save_total_limit: null,
  no_cuda: false,
  seed: 42,
  fp16: false,
  fp16_opt_level: "O1",
  local_rank: -1,
  tpu_num_cores: null,
  tpu_metrics_debug: false,
  tokenizer_name: null,
  cache_dir: null,
  verbose: false,
  help: false,
};
const SPEC_REQUIRED = ["model_name_or_path", "data_dir", "output_dir"];

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const field = (args: TrainArgs, name: string) =>
  (args as unknown as Record<string, unknown>)[camel(name)];

/** Asserts a one-line UsageError whose message contains every `parts`. */
function assertUsage(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes("\n"), `not one line: ${e.message}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${p}" not in: ${e.message}`);
    return true;
  });
}

Deno.test("the flag table holds run.py's flags (model.md §16.1), with camelCase fields", () => {
  const names = FLAGS.map((f) => f.name).sort();
  assert.deepEqual(names, [...Object.keys(SPEC_DEFAULTS), ...SPEC_REQUIRED].sort());
  for (const f of FLAGS) assert.equal(f.key, camel(f.name), f.name);
  assert.deepEqual(
    FLAGS.filter((f) => f.required).map((f) => f.name).sort(),
    [...SPEC_REQUIRED].sort(),
  );
});

Deno.test("parseArgs() gives every documented default when only the required flags are set", () => {
  const args = parseArgs(REQUIRED);
  for (const [name, value] of Object.entries(SPEC_DEFAULTS)) {
    assert.deepEqual(field(args, name), value, name);
  }
  assert.equal(args.modelNameOrPath, "CA-MTL-base");
  assert.equal(args.dataDir, "glue");
  assert.equal(args.outputDir, "out");
  assert.equal(args.demo, false);
  assert.equal(args.samplingMode, "sequential");
  assert.deepEqual(args.given.sort(), ["data_dir", "model_name_or_path", "output_dir"]);
});

Deno.test("parseArgs() reads --flag value and --flag=value alike, negative numbers included", () => {
  const spaced = parseArgs([
    ...REQUIRED,
    "--learning_rate",
    "2e-5",
    "--max_steps",
    "-1",
    "--seed",
    "12",
  ]);
  const joined = parseArgs([...REQUIRED, "--learning_rate=2e-5", "--max_steps=-1", "--seed=12"]);
  for (const args of [spaced, joined]) {
    assert.equal(args.learningRate, 2e-5);
    assert.equal(args.maxSteps, -1);
    assert.equal(args.seed, 12);
  }
  assert.equal(parseArgs([...REQUIRED, "--warmup_proportion", ".25"]).warmupProportion, 0.25);
  assert.equal(parseArgs([...REQUIRED, "--seed", "1", "--seed", "2"]).seed, 2);
});

Deno.test("parseArgs() runs the seed README command", () => {
  const args = parseArgs([
    ...REQUIRED,
    "--do_train",
    "--do_eval",
    "--num_train_epochs",
    "5",
    "--learning_rate",
    "2e-5",
    "--seed",
    "12",
    "--overwrite_cache",
    "--use_mt_uncertainty",
    "--freeze_encoder_layers",
    "0-4",
  ]);
  assert.equal(args.doTrain, true);
  assert.equal(args.doEval, true);
  assert.equal(args.doPredict, false);
  assert.equal(args.numTrainEpochs, 5);
  assert.equal(args.overwriteCache, true);
  assert.equal(args.freezeEncoderLayers, "0-4");
  assert.equal(args.samplingMode, "mt-uncertainty");
});

Deno.test("--tasks takes values until the next flag", () => {
  const args = parseArgs(["--tasks", "cola", "sst-2", "mrpc", ...REQUIRED, "--do_train"]);
  assert.deepEqual(args.tasks, ["cola", "sst-2", "mrpc"]);
  assert.equal(args.doTrain, true);
  assert.deepEqual(parseArgs([...REQUIRED, "--tasks=rte", "qnli"]).tasks, ["rte", "qnli"]);
  assertUsage(() => parseArgs([...REQUIRED, "--tasks"]), "--tasks", "TASK");
  assertUsage(() => parseArgs([...REQUIRED, "--tasks", "--do_train"]), "--tasks");
});

Deno.test("--tasks rejects unknown, duplicate and mnli-mm tasks with a hint", () => {
  assertUsage(() => parseArgs([...REQUIRED, "--tasks", "SST-2"]), `"SST-2"`, `"sst-2"`);
  assertUsage(() => parseArgs([...REQUIRED, "--tasks", "stsb"]), `"sts-b"`);
  assertUsage(() => parseArgs([...REQUIRED, "--tasks", "cola", "cola"]), `"cola" twice`);
  assertUsage(() => parseArgs([...REQUIRED, "--tasks", "mnli-mm"]), `"mnli"`);
});

Deno.test("a lone .json argument is read as a file of arguments", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/args.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        model_name_or_path: "CA-MTL-large",
        data_dir: "/data/glue",
        output_dir: "/tmp/o",
        tasks: ["rte", "mrpc"],
        do_train: true,
        learning_rate: 2e-5,
        max_steps: "300",
        save_total_limit: null,
        mt_sampling: "proportional",
      }),
    );
    const args = parseArgs([path]);
    assert.equal(args.modelNameOrPath, "CA-MTL-large");
    assert.deepEqual(args.tasks, ["rte", "mrpc"]);
    assert.equal(args.doTrain, true);
    assert.equal(args.learningRate, 2e-5);
    assert.equal(args.maxSteps, 300);
    assert.equal(args.saveTotalLimit, null);
    assert.equal(args.samplingMode, "proportional");
    assert.equal(args.seed, 42);

    await Deno.writeTextFile(path, JSON.stringify({ learnig_rate: 1, output_dir: "o" }));
    assertUsage(() => parseArgs([path]), `"learnig_rate"`, `"learning_rate"`);
    await Deno.writeTextFile(path, JSON.stringify({ do_train: "yes" }));
    assertUsage(() => parseArgs([path]), `"do_train"`, "true or false");
    await Deno.writeTextFile(path, "{ not json");
    assertUsage(() => parseArgs([path]), path);
    assertUsage(() => parseArgs([`${dir}/missing.json`]), "does not exist");
    assertUsage(() => parseArgs([path, "--do_train"]), "only argument");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown flag names the closest known flag", () => {
  assertUsage(() => parseArgs([...REQUIRED, "--learnig_rate", "1"]), `"--learning_rate"`);
  assertUsage(() => parseArgs([...REQUIRED, "--learning-rate", "1"]), `"--learning_rate"`);
  assertUsage(() => parseArgs([...REQUIRED, "--use_mt_uncertainity"]), `"--use_mt_uncertainty"`);
  assertUsage(
    () => parseArgs([...REQUIRED, "--per_device_train"]),
    `"--per_device_train_batch_size"`,
  );
  assertUsage(() => parseArgs(["-lr", "1"]), "unknown flag");
});

Deno.test("a bad value names the flag and what it expects", () => {
  assertUsage(
    () => parseArgs([...REQUIRED, "--learning_rate", "fast"]),
    "--learning_rate",
    "a number",
  );
  assertUsage(() => parseArgs([...REQUIRED, "--max_steps", "1.5"]), "--max_steps", "an integer");
  assertUsage(() => parseArgs([...REQUIRED, "--per_device_train_batch_size", "0"]), ">= 1");
  assertUsage(() => parseArgs([...REQUIRED, "--warmup_proportion", "2"]), "from 0 to 1");
  assertUsage(() => parseArgs([...REQUIRED, "--mt_sampling", "random"]), "sequential, uniform");
  assertUsage(() => parseArgs([...REQUIRED, "--fp16_opt_level", "O4"]), "O0, O1, O2, O3");
  assertUsage(() => parseArgs([...REQUIRED, "--freeze_encoder_layers", "4-0"]), "START-END");
  assertUsage(() => parseArgs([...REQUIRED, "--seed"]), `"--seed"`, "needs a value");
  assertUsage(() => parseArgs([...REQUIRED, "--do_train", "true"]), "switch", "takes no value");
  assertUsage(() => parseArgs([...REQUIRED, "--do_train=true"]), "switch");
  assertUsage(() => parseArgs([...REQUIRED, "stray"]), `"stray"`);
});

Deno.test("missing required flags are all named, with the demo as a way out", () => {
  assertUsage(
    () => parseArgs(["--do_train"]),
    "--model_name_or_path",
    "--data_dir",
    "--output_dir",
    "demo",
  );
  assertUsage(() => parseArgs(["--model_name_or_path", "x", "--data_dir", "d"]), "--output_dir");
});

Deno.test("distributed and TPU settings fail with what to do instead", () => {
  assertUsage(() => parseArgs([...REQUIRED, "--local_rank", "0"]), "distributed", "one process");
  assertUsage(
    () => parseArgs([...REQUIRED, "--tpu_num_cores", "8"]),
    "TPU",
    "drop --tpu_num_cores",
  );
  const args = parseArgs([...REQUIRED, "--local_rank", "-1", "--no_cuda"]);
  assert.equal(args.localRank, -1);
  assert.equal(args.noCuda, true);
});

Deno.test("--tpu_metrics_debug is refused in one line saying why and what to do", () => {
  assert.throws(
    () => parseArgs([...REQUIRED, "--tpu_metrics_debug"]),
    (e: Error) =>
      e instanceof UsageError &&
      e.message === "Cannot run with --tpu_metrics_debug: it reports TPU metrics and TPU " +
          "training is not supported; drop it",
  );
});

Deno.test("--warmup_steps other than 0 is refused, naming --warmup_proportion", () => {
  assert.equal(parseArgs([...REQUIRED, "--warmup_steps", "0"]).warmupSteps, 0);
  assertUsage(
    () => parseArgs([...REQUIRED, "--warmup_steps", "100"]),
    "--warmup_steps 100",
    "use --warmup_proportion instead",
  );
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/args.json`, JSON.stringify({ warmup_steps: 50 }));
  assertUsage(() => parseArgs([`${dir}/args.json`]), "--warmup_steps 50");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("--per_gpu_* alone is an alias; with --per_device_* it is a conflict", () => {
  const args = parseArgs([
    ...REQUIRED,
    "--per_gpu_train_batch_size",
    "16",
    "--per_gpu_eval_batch_size=4",
  ]);
  assert.equal(args.perDeviceTrainBatchSize, 16);
  assert.equal(args.perDeviceEvalBatchSize, 4);
  assertUsage(
    () =>
      parseArgs([
        ...REQUIRED,
        "--per_gpu_train_batch_size",
        "16",
        "--per_device_train_batch_size",
        "16",
      ]),
    "--per_gpu_train_batch_size",
    "--per_device_train_batch_size",
  );
});

Deno.test("the sampling flags pick the sampler of docs/model.md §12.1", () => {
  const mode = (...flags: string[]) => parseArgs([...REQUIRED, ...flags]).samplingMode;
  assert.equal(mode(), "sequential");
  assert.equal(mode("--uniform_mt_sampling"), "uniform");
  assert.equal(mode("--mt_sampling", "proportional"), "proportional");
  assert.equal(mode("--use_mt_uncertainty"), "mt-uncertainty");
  assert.equal(mode("--use_mt_uncertainty", "--uniform_mt_sampling"), "mt-uncertainty");
  assertUsage(() => mode("--use_mt_uncertainty", "--mt_sampling", "uniform"), "--mt_sampling");
  assertUsage(() => mode("--uniform_mt_sampling", "--mt_sampling", "sequential"), "keep one");
});

Deno.test("--help returns help: true and the text mentions every flag with its default", () => {
  assert.equal(parseArgs(["--help"]).help, true);
  assert.equal(parseArgs(["--seed", "bad", "-h"]).help, true);
  const text = usage().replace(/\s+/g, " ");
  for (const f of FLAGS) assert.match(text, new RegExp(`--${f.name}\\b`), f.name);
  assert.match(text, /--learning_rate LR peak AdamW learning rate \(default: 5e-5\)/);
  assert.match(text, /--warmup_steps N refused unless 0/);
  assert.match(text, /--tpu_metrics_debug TPU metrics; refused/);
  assert.match(text, /--logging_dir DIR folder for TensorBoard event files/);
  assert.match(text, /runs\/demo, overwriting it: the demo implies --overwrite_output_dir/);
  assert.match(text, /--tasks TASK \[TASK \.\.\.\].*cola mnli rte wnli qqp sts-b sst-2 qnli mrpc/);
  assert.match(text, /Training \(transformers 2\.11 TrainingArguments\):/);
});

Deno.test("no arguments give the embedded demo; any argument switches to HF defaults", () => {
  const demo = parseArgs([]);
  assert.equal(demo.demo, true);
  assert.equal(demo.modelNameOrPath, "CA-MTL-tiny");
  assert.equal(demo.dataDir, null);
  assert.deepEqual(demo.tasks, [...DEMO_TASKS]);
  assert.equal(demo.outputDir, "runs/demo");
  assert.equal(demo.doTrain && demo.doEval && demo.overwriteOutputDir, true);
  assert.equal(demo.useMtUncertainty, true);
  assert.equal(demo.samplingMode, "mt-uncertainty");
  assert.equal(128 % demo.maxSeqLength, 0, "CA-MTL-tiny has H = 128");
  assert.ok(demo.maxSteps > 0 && demo.loggingSteps > 0 && demo.loggingSteps < demo.maxSteps);
  demo.tasks.push("x");
  assert.deepEqual(parseArgs([]).tasks, [...DEMO_TASKS], "each call gets a fresh copy");
  const normal = parseArgs(REQUIRED);
  assert.equal(normal.demo, false);
  assert.equal(normal.maxSeqLength, 128);
  assert.equal(normal.learningRate, 5e-5);
});

Deno.test("defaultLoggingDir() follows HF's runs/<MonDD_HH-MM-SS>_<host>", () => {
  assert.equal(defaultLoggingDir("h", new Date(2020, 0, 2, 3, 4, 5)), "runs/Jan02_03-04-05_h");
});

Deno.test("--fp16_opt_level: O1 is mixed precision, O0 is f32, O2 and O3 are refused", () => {
  assert.equal(mixedPrecision({ fp16: true, fp16OptLevel: "O1" }), true);
  assert.equal(mixedPrecision({ fp16: true, fp16OptLevel: "O0" }), false);
  assert.equal(mixedPrecision({ fp16: false, fp16OptLevel: "O3" }), false); // ignored, as in HF
  for (const level of ["O2", "O3"]) {
    assert.throws(
      () => mixedPrecision({ fp16: true, fp16OptLevel: level }),
      (e) =>
        e instanceof UsageError &&
        e.message === `Cannot use --fp16_opt_level ${level}: camtl implements O1 (f16 matmuls, ` +
            `f32 weights and the rest); use O1, or O0 for f32`,
    );
  }
});

Deno.test("--fp16 alone runs the embedded demo in mixed precision", () => {
  const a = parseArgs(["--fp16"]);
  assert.equal(a.demo, true);
  assert.equal(a.fp16, true);
  assert.equal(a.fp16OptLevel, "O1");
  assert.equal(a.outputDir, "runs/demo-fp16");
  assert.equal(a.maxSteps, parseArgs([]).maxSteps);
  assert.equal(parseArgs(["--fp16", "--fp16_opt_level", "O0"]).fp16OptLevel, "O0");
  assert.equal(parseArgs(["--fp16_opt_level=O2", "--fp16"]).fp16OptLevel, "O2");
  assert.throws(() => parseArgs(["--fp16", "--fp16_opt_level", "O4"]), UsageError);
  // With any other flag, the usual rules apply (the required flags are missing here).
  assert.throws(() => parseArgs(["--fp16", "--seed", "1"]), UsageError);
});
