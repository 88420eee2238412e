/**
 * The device-side fault flags: a bad label or target made on the GPU surfaces at the next
 * readback as an error naming the op, the tensor, the value, its position and the limit; the
 * flag is cleared by the report and costs nothing to a clean read.
 */
import assert from "node:assert/strict";
import { fromArray, readFloats } from "../autograd/tensor.ts";
import { crossEntropy } from "../ops/cross_entropy.ts";
import { mseLoss } from "../ops/mse.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { positionOf } from "./faults.ts";

gpuTest(
  "crossEntropy() with label 5 of 2 classes throws at the read instead of a loss",
  async (gpu) => {
    const logits = fromArray(gpu, [0.5, -1, 2, 0.25, 0, 1], [3, 2]);
    const loss = crossEntropy({ logits }, {
      labels: fromArray(gpu, [0, 5, 1], [3], { dtype: "i32" }),
    });
    await assert.rejects(
      loss.read(),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          'Cannot run "crossEntropy" on labels: value 5 at [1] is outside [0, 2) (classes in logits)',
    );
    const good = crossEntropy({ logits }, {
      labels: fromArray(gpu, [0, 1, 1], [3], { dtype: "i32" }),
    });
    assert.ok(Number.isFinite((await good.readFloat())[0]));
  },
);

for (const bad of [NaN, Infinity, -Infinity]) {
  gpuTest(`mseLoss() with a ${bad} regression target throws at the read`, async (gpu) => {
    const input = fromArray(gpu, [0.5, 1, 2, 3], [4, 1]);
    const loss = mseLoss({ input }, { target: fromArray(gpu, [0.5, 1, bad, 3], [4]) });
    await assert.rejects(
      loss.read(),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === `Cannot run "mseLoss" on target: value ${bad} at [2] is not finite`,
    );
  });
}

gpuTest("a fault is reported once, by whichever read comes next, and reads go on", async (gpu) => {
  const logits = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
  const loss = crossEntropy({ logits }, { labels: fromArray(gpu, [-1, 0], [2], { dtype: "i32" }) });
  const other = fromArray(gpu, [7], [1]);
  await assert.rejects(readFloats([other]), /labels: value -1 at \[0\] is outside \[0, 2\)/);
  assert.deepEqual([...await other.readFloat()], [7]);
  assert.ok(Number.isFinite((await loss.readFloat())[0]));
});

Deno.test("positionOf() turns a flat index into a row-major position", () => {
  assert.equal(positionOf(71, [4, 18]), "[3, 17]");
  assert.equal(positionOf(5, [7]), "[5]");
  assert.equal(positionOf(0, [2, 3, 4]), "[0, 0, 0]");
  assert.equal(positionOf(23, [2, 3, 4]), "[1, 2, 3]");
});
