/**
 * What a run meets when the GPU fails under it: a lost device ends every later dispatch and
 * readback with one message (never a hang), an uncaptured out-of-memory or validation error
 * surfaces at the next readback, and a tensor larger than the adapter can bind is refused
 * before any GPU work with the size, the limit and what to lower.
 */
import assert from "node:assert/strict";
import { fromArray, Tensor } from "../autograd/tensor.ts";
import { add } from "../ops/elementwise.ts";
import { gpuTest, testGpu } from "../../tests/_util/gpu.ts";
import { type Gpu, requestGpu } from "./device.ts";
import { GpuDeviceError, GpuDeviceLostError, GpuMemoryError } from "./errors.ts";

/**
 * A test on a device of its own, so that losing or poisoning it leaves the shared test device
 * alone; the device is destroyed afterwards.
 */
function ownGpuTest(name: string, fn: (gpu: Gpu) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      if (!(await testGpu())) return;
      const gpu = await requestGpu();
      try {
        await fn(gpu);
      } finally {
        gpu.destroy();
      }
    },
  });
}

ownGpuTest(
  "a lost device fails dispatches, reads and syncs with one message instead of hanging",
  async (gpu) => {
    const a = fromArray(gpu, [1, 2, 3], [3], { persistent: true });
    const pending = add({ a, b: a }).read(); // in flight when the device goes
    gpu.device.destroy();
    const lost = (e: Error) =>
      e instanceof GpuDeviceLostError &&
      /^Cannot use the GPU: the device was lost \(destroyed/.test(e.message) &&
      /resuming from its last checkpoint/.test(e.message);
    await assert.rejects(pending, lost);
    assert.equal(gpu.lost, true);
    assert.throws(() => add({ a, b: a }), lost);
    await assert.rejects(a.read(), lost);
    await assert.rejects(gpu.sync(), lost);
  },
);

ownGpuTest(
  "an uncaptured out-of-memory error surfaces at the next read with the fix",
  async (gpu) => {
    const t = fromArray(gpu, [1, 2], [2], { persistent: true });
    // Lavapipe takes host memory as it comes; the driver's event is what a GPU sends.
    gpu.device.dispatchEvent(
      new GPUUncapturedErrorEvent("uncapturederror", {
        error: new GPUOutOfMemoryError("Not enough memory left"),
      }),
    );
    await assert.rejects(
      t.read(),
      (e: Error) =>
        e instanceof GpuMemoryError &&
        e.message === "Cannot continue: the GPU ran out of memory (Not enough memory left); " +
            "lower --per_device_train_batch_size (and --per_device_eval_batch_size) or " +
            "--max_seq_length",
    );
    assert.deepEqual([...await t.read()], [1, 2]); // reported once
  },
);

ownGpuTest(
  "a real uncaptured validation error is not swallowed: the next read throws",
  async (gpu) => {
    const t = fromArray(gpu, [3], [1], { persistent: true });
    gpu.device.createBuffer({
      size: gpu.limits.maxBufferSize + 4,
      usage: GPUBufferUsage.STORAGE,
    });
    await new Promise((r) => setTimeout(r, 50)); // the error event is delivered as a task
    await assert.rejects(
      t.read(),
      (e: Error) =>
        e instanceof GpuDeviceError &&
        /^Cannot trust the GPU results: the device reported/.test(e.message),
    );
  },
);

gpuTest("a tensor over maxStorageBufferBindingSize is refused with size, limit and fix", (gpu) => {
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const elements = Math.floor(limit / 4) + 1;
  assert.throws(
    () => new Tensor(gpu, [elements], { persistent: true }),
    (e: Error) =>
      e instanceof GpuMemoryError &&
      e.message.startsWith(
        `Cannot allocate a GPU buffer of ${(4 * elements).toLocaleString("en")} bytes`,
      ) &&
      /the adapter's (maxStorageBufferBindingSize|maxBufferSize) is [\d,]+ bytes/.test(
        e.message,
      ) &&
      /lower --per_device_train_batch_size .* or --max_seq_length$/.test(e.message),
  );
});
