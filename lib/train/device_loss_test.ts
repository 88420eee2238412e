/**
 * A GPU lost in the middle of training ends `train()` with the device-loss message within a
 * step, instead of recording onto a dead device or waiting for a readback forever.
 */
import assert from "node:assert/strict";
import { requestGpu } from "../gpu/device.ts";
import { GpuDeviceLostError } from "../gpu/errors.ts";
import { testGpu } from "../../tests/_util/gpu.ts";
import { tinyData, tinyModel, tinyOptions } from "../../tests/_util/tiny_trainer.ts";
import { Trainer } from "./trainer.ts";

Deno.test({
  name: "losing the device at step 3 ends training with GpuDeviceLostError, not a hang",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!(await testGpu())) return;
    const gpu = await requestGpu(); // its own device: this test destroys it
    const dir = await Deno.makeTempDir();
    const model = tinyModel(gpu);
    const trainer = new Trainer(gpu, model, tinyData(), tinyOptions(dir, { loggingSteps: 4 }), {
      onStep: (step) => {
        if (step === 3) gpu.device.destroy();
      },
    });
    try {
      await assert.rejects(
        trainer.train(),
        (e: Error) =>
          e instanceof GpuDeviceLostError &&
          /^Cannot use the GPU: the device was lost/.test(e.message),
      );
      assert.ok(trainer.globalStep <= 4, `stopped at step ${trainer.globalStep}`);
    } finally {
      trainer.dispose();
      model.dispose();
      gpu.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
