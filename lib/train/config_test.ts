import assert from "node:assert/strict";
import { parseArgs } from "../cli/args.ts";
import { ConfigError, resolveTrainingConfig } from "./config.ts";
import { runTraining } from "./run.ts";
import { gpuTestUnscoped } from "../../tests/_util/gpu.ts";

Deno.test("a typed config resolves to the same settings as the flags", () => {
  const fromConfig = resolveTrainingConfig({
    modelNameOrPath: "CA-MTL-base",
    dataDir: "glue",
    outputDir: "out",
    doTrain: true,
    learningRate: 2e-5,
    tasks: ["cola", "sst-2"],
    useMtUncertainty: true,
  });
  const fromFlags = parseArgs(
    ("--model_name_or_path CA-MTL-base --data_dir glue --output_dir out --do_train " +
      "--learning_rate 2e-5 --tasks cola sst-2 --use_mt_uncertainty").split(" "),
  );
  assert.deepEqual({ ...fromConfig, given: [] }, { ...fromFlags, given: [] });
  assert.equal(fromConfig.samplingMode, "mt-uncertainty");
  assert.equal(fromConfig.perDeviceTrainBatchSize, 8, "HF's default");
});

Deno.test("demo: true takes the embedded demo's settings, overridable", () => {
  const args = resolveTrainingConfig({ demo: true, maxSteps: 10, outputDir: "/tmp/x" });
  assert.equal(args.demo, true);
  assert.equal(args.maxSteps, 10);
  assert.equal(args.outputDir, "/tmp/x");
  assert.equal(args.modelNameOrPath, "CA-MTL-tiny");
  assert.deepEqual(args.tasks, parseArgs([]).tasks);
});

Deno.test("config mistakes name the field, the value and the fix", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { demo: true, learningRate: "fast" },
      /^Cannot use learningRate = "fast": expected a number >= 0$/,
    ],
    [{ demo: true, maxSeqLenght: 64 }, /unknown; did you mean "maxSeqLength"\?/],
    [{ demo: true, mtSampling: "random" }, /mtSampling = "random".*one of sequential, uniform/],
    [{ demo: true, tasks: ["rte"] }, /Cannot use tasks with demo: true/],
    [{ modelNameOrPath: "CA-MTL-base" }, /missing required flags dataDir, outputDir/],
    [
      { demo: true, useMtUncertainty: true, mtSampling: "uniform" },
      /Cannot use "mtSampling uniform" with "useMtUncertainty"/,
    ],
    [{ demo: true, onLog: "print" }, /Cannot use onLog: expected a function/],
  ];
  for (const [config, message] of cases) {
    assert.throws(() => resolveTrainingConfig(config as never), (e: Error) => {
      assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /--/);
      return true;
    });
  }
});

gpuTestUnscoped("runTraining takes a typed config and reports through its callbacks", async () => {
  const outputDir = await Deno.makeTempDir();
  const steps: number[] = [];
  const logged: number[] = [];
  const result = await runTraining({
    demo: true,
    outputDir,
    maxSteps: 4,
    loggingSteps: 2,
    saveSteps: 0,
    evaluateDuringTraining: false,
    doEval: false,
    onStep: (step) => steps.push(step),
    onLog: (r) => logged.push(r.step),
  });
  assert.deepEqual(steps, [1, 2, 3, 4]);
  assert.deepEqual(logged, [2, 4]);
  assert.equal(result.globalStep, 4);
  assert.deepEqual(result.logHistory.map((r) => r.step), [2, 4]);
  const display = (result as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ]();
  assert.match(display["text/html"], /<svg/);
  assert.ok(result.files.includes("model.safetensors"));
  await Deno.remove(outputDir, { recursive: true });
});

gpuTestUnscoped("runTraining's errors name config fields, not flags", async () => {
  await assert.rejects(
    runTraining({ demo: true, maxSeqLength: 48, outputDir: "/tmp/camtl-config-test" }),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^Cannot use maxSeqLength 48 with CA-MTL-tiny/);
      return true;
    },
  );
});
