import assert from "node:assert/strict";
import { fromArray } from "../autograd/tensor.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { taskLoss } from "./loss.ts";

gpuTest("taskLoss() refuses a class label outside [0, num_labels) before any GPU work", (gpu) => {
  const logits = fromArray(gpu, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [3, 2]);
  assert.throws(
    () => taskLoss(logits, Int32Array.of(1, 5, 0), { task: "rte" }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message === 'Cannot use labels of "rte": value 5 at [1] is outside [0, 2) (num_labels)',
  );
});

for (const bad of [NaN, Infinity]) {
  gpuTest(`taskLoss() refuses a ${bad} regression target`, (gpu) => {
    const logits = fromArray(gpu, [0.1, 0.2, 0.3], [3, 1]);
    assert.throws(
      () => taskLoss(logits, Float32Array.of(1.5, 2, bad), { task: "sts-b" }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === `Cannot use labels of "sts-b": value ${bad} at [2] is not finite`,
    );
  });
}

gpuTest("taskLoss() computes cross-entropy for valid labels", async (gpu) => {
  const logits = fromArray(gpu, [0, 0, 0, 0], [2, 2]);
  const loss = await taskLoss(logits, Int32Array.of(0, 1)).readFloat();
  assert.ok(Math.abs(loss[0] - Math.log(2)) < 1e-6);
});
