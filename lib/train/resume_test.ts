/**
 * Exact resumption when a task sits out a batch: after its first step, a head keeps a zeroed
 * gradient and AdamW keeps updating it (moments and weight decay), as PyTorch's AdamW does
 * after `zero_grad()` without `set_to_none`; a resumed run must do the same from its first
 * step, or the heads of absent tasks drift apart from the uninterrupted run.
 */
import assert from "node:assert/strict";
import { loadStateDict as readWeights } from "../io/checkpoint.ts";
import { caMtlConfigToJson } from "../nn/ca_mtl/pretrained.ts";
import { loadModelWeights } from "../nn/state_dict.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { tinyData, tinyModel, tinyOptions } from "../../tests/_util/tiny_trainer.ts";
import { Trainer } from "./trainer.ts";

gpuTest("a resumed run matches when the steps after the checkpoint lack a task", async (gpu) => {
  const dir = await Deno.makeTempDir();
  // The uniform sampler draws each batch from one task: here sts-b at step 5 only, mrpc before and after.
  const sampling = {
    samplingMode: "uniform" as const,
    uniformMtSampling: true,
    percentOfMaxDataSize: 1,
    mtUncertaintyScore: "code" as const,
  };
  const straight = tinyModel(gpu);
  const over = { maxSteps: 8, ...sampling, modelConfig: caMtlConfigToJson(straight.config) };
  const t1 = new Trainer(
    gpu,
    straight,
    tinyData(),
    tinyOptions(`${dir}/a`, { ...over, saveSteps: 2 }),
  );
  await t1.train();
  t1.dispose();
  straight.dispose();

  const resumed = tinyModel(gpu);
  loadModelWeights(resumed, (await readWeights(`${dir}/a/checkpoint-6`)).stateDict);
  const t2 = new Trainer(
    gpu,
    resumed,
    tinyData(),
    tinyOptions(`${dir}/b`, { ...over, saveSteps: 8 }),
  );
  await t2.resume(`${dir}/a/checkpoint-6`);
  await t2.train();
  t2.dispose();
  resumed.dispose();
  try {
    const state = (run: string) =>
      Deno.readTextFile(`${dir}/${run}/checkpoint-8/trainer_state.json`).then(JSON.parse);
    const [a, b] = [await state("a"), await state("b")];
    // sts-b's head (the last two parameters) was updated at steps 5 to 8 in both runs.
    assert.deepEqual(a.optimizer_steps.slice(-2), [4, 4]);
    assert.deepEqual(b.optimizer_steps, a.optimizer_steps);
    for (const file of ["model.safetensors", "optimizer.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/b/checkpoint-8/${file}`),
        await Deno.readFile(`${dir}/a/checkpoint-8/${file}`),
        `${file} at step 8`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
