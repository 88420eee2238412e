import assert from "node:assert/strict";
import { caMtlConfigToJson } from "../nn/ca_mtl/pretrained.ts";
import { loadStateDict as readWeights } from "../io/checkpoint.ts";
import { loadModelWeights } from "../nn/state_dict.ts";
import { isCheckpoint, listCheckpoints } from "./checkpoint.ts";
import { Trainer } from "./trainer.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { tinyData, tinyModel, tinyOptions } from "../../tests/_util/tiny_trainer.ts";

const model = tinyModel, data = tinyData, options = tinyOptions;

for (const fp16 of [false, true]) {
  // Under fp16, a loss scale of 2^24 overflows f16 at first and halves, then grows every 3
  // clean steps, so the checkpoint must carry a scale and growth count that both changed.
  const amp = fp16 ? { fp16, gradScaler: { initScale: 2 ** 24, growthInterval: 3 } } : {};
  const name = "resuming from a checkpoint gives the losses of an uninterrupted run" +
    (fp16 ? " (fp16, loss-scaler state included)" : "");
  gpuTest(name, async (gpu) => {
    const dir = await Deno.makeTempDir();
    const straight = model(gpu);
    const t1 = new Trainer(gpu, straight, data(), options(`${dir}/a`, amp));
    const full = (await t1.train()).losses;
    const finalScale = t1.scaler?.state();
    if (fp16) assert.ok(t1.scaler!.skippedSteps > 0, "the fp16 run must skip overflowing steps");
    t1.dispose();
    straight.dispose();

    const first = model(gpu);
    const cfg = caMtlConfigToJson(first.config);
    const t2 = new Trainer(
      gpu,
      first,
      data(),
      options(`${dir}/b`, { ...amp, saveSteps: 4, modelConfig: cfg }),
    );
    // Stop after 4 of 8 steps, as a killed process would (its checkpoint-4 is complete).
    const half = await t2.trainUntil(4);
    const scaleAt4 = t2.scaler?.state();
    t2.dispose();
    first.dispose();
    assert.ok(await isCheckpoint(`${dir}/b/checkpoint-4`));

    const resumed = model(gpu);
    loadModelWeights(resumed, (await readWeights(`${dir}/b/checkpoint-4`)).stateDict);
    const t3 = new Trainer(
      gpu,
      resumed,
      data(),
      options(`${dir}/b`, { ...amp, saveSteps: 4, modelConfig: cfg }),
    );
    await t3.resume(`${dir}/b/checkpoint-4`);
    assert.deepEqual(t3.scaler?.state(), scaleAt4);
    const rest = (await t3.train()).losses;
    assert.deepEqual(t3.scaler?.state(), finalScale);
    t3.dispose();
    resumed.dispose();

    assert.equal(full.length, 8);
    const joined = [...half.losses, ...rest];
    joined.forEach((l, i) =>
      assert.ok(
        Math.abs(l - full[i]) <= 1e-6 * Math.max(1, Math.abs(full[i])),
        `step ${i + 1}: ${l} vs ${full[i]}`,
      )
    );
    await Deno.remove(dir, { recursive: true });
  });
}

gpuTest(
  "checkpoints are pruned to save_total_limit and partial folders are ignored",
  async (gpu) => {
    const dir = await Deno.makeTempDir();
    const m = model(gpu);
    const t = new Trainer(
      gpu,
      m,
      data(),
      options(dir, {
        maxSteps: 6,
        saveSteps: 2,
        saveTotalLimit: 2,
        samplingMode: "proportional",
        uniformMtSampling: false,
        percentOfMaxDataSize: 1,
        mtUncertaintyScore: "code",
      }),
    );
    await t.train();
    await Deno.mkdir(`${dir}/.checkpoint-8.partial`);
    await Deno.mkdir(`${dir}/checkpoint-10`); // no trainer_state.json: not a checkpoint
    assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [4, 6]);
    t.dispose();
    m.dispose();
    await Deno.remove(dir, { recursive: true });
  },
);

gpuTest("training lowers the loss and evaluation reports the task's metrics", async (gpu) => {
  const dir = await Deno.makeTempDir();
  const m = model(gpu);
  const t = new Trainer(
    gpu,
    m,
    data(),
    options(dir, {
      maxSteps: 30,
      loggingSteps: 10,
      learningRate: 3e-3,
      samplingMode: "sequential",
      uniformMtSampling: false,
      percentOfMaxDataSize: 1,
      mtUncertaintyScore: "code",
    }),
  );
  const { losses } = await t.train();
  assert.equal(losses.length, 3);
  assert.ok(losses[2] < losses[0], `loss falls: ${losses}`);
  const metrics = await t.evaluate();
  assert.deepEqual(Object.keys(metrics.mrpc).sort(), ["acc", "acc_and_f1", "eval_loss", "f1"]);
  t.dispose();
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});
