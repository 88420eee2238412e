/**
 * f32 training stops at the first inf/NaN loss or gradient, naming the step, the task and the
 * last good checkpoint, and never saves the bad step as a checkpoint.
 */
import assert from "node:assert/strict";
import { fromArray } from "../autograd/tensor.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { tinyData, tinyModel, tinyOptions } from "../../tests/_util/tiny_trainer.ts";
import { listCheckpoints } from "./checkpoint.ts";
import { FiniteGuard, NonFiniteError } from "./finite_guard.ts";
import { Trainer } from "./trainer.ts";

gpuTest(
  "a NaN loss in f32 stops training at its step, naming the last good checkpoint",
  async (gpu) => {
    const dir = await Deno.makeTempDir();
    const model = tinyModel(gpu);
    const options = tinyOptions(dir, { maxSteps: 8, saveSteps: 2, loggingSteps: 3 });
    const trainer = new Trainer(gpu, model, tinyData(), options, {
      // After step 3, a NaN in the shared pooler makes every task's loss NaN from step 4 on.
      onStep: (step) => {
        if (step === 3) model.bert.pooler!.dense.bias!.value.write(new Float32Array(32).fill(NaN));
      },
    });
    try {
      await assert.rejects(
        trainer.train(),
        (e: Error) =>
          e instanceof NonFiniteError && e.step === 4 &&
          e.checkpoint === `${dir}/checkpoint-2` &&
          /^Cannot train past step 4: the loss of task "(mrpc|sts-b)" is NaN in f32; the last good checkpoint is ".*checkpoint-2" \(resume from it with a lower --learning_rate or --max_grad_norm, or check that task's data\)$/
            .test(e.message),
      );
      // Step 4's save checked the mark first: no checkpoint holds the NaN weights.
      assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [2]);
    } finally {
      trainer.dispose();
      model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "FiniteGuard names the batch's tasks for a gradient and says when nothing was saved",
  async (gpu) => {
    const dir = await Deno.makeTempDir();
    const guard = new FiniteGuard(gpu, { taskNames: ["cola", "rte", "qnli"], outputDir: dir });
    try {
      const fine = fromArray(gpu, [0.5], [1]);
      guard.watchLosses(new Map([[1, fine]]), 1);
      guard.watchGradient(fine, 1, [0, 2]);
      assert.deepEqual([...(await guard.readWith([fine]))[0]], [0.5]);
      guard.watchGradient(fromArray(gpu, [Infinity], [1]), 7, [0, 2]);
      guard.watchLosses(new Map([[1, fromArray(gpu, [NaN], [1])]]), 8); // later: not the first
      await assert.rejects(
        guard.check(),
        (e: Error) =>
          e instanceof NonFiniteError &&
          e.message ===
            'Cannot train past step 7: the gradient norm is Infinity (tasks "cola", "qnli" in the ' +
              "batch) in f32; no checkpoint was saved before it (start again with a lower " +
              "--learning_rate or --max_grad_norm, or check that task's data)",
      );
    } finally {
      guard.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
