import assert from "node:assert/strict";
import { fromArray } from "../autograd/tensor.ts";
import { add } from "../ops/elementwise.ts";
import { statsSince } from "./recorder.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";

gpuTest("the recorder counts dispatches, submits, syncs and bytes each way", async (gpu) => {
  const before = { ...gpu.recorder.stats };
  const a = fromArray(gpu, [1, 2, 3, 4, 5], [5]); // 20 bytes up
  const b = fromArray(gpu, [1, 1, 1, 1, 1], [5]);
  const c = add({ a, b });
  assert.deepEqual(Array.from(await c.readFloat()), [2, 3, 4, 5, 6]);
  await gpu.sync();
  const d = statsSince(before, gpu.recorder.stats);
  assert.equal(d.uploadBytes, 40);
  assert.equal(d.dispatches, 1);
  assert.equal(d.readbacks, 1);
  // The 20 bytes asked for, plus the device's 16-byte fault flags, which ride in every readback.
  assert.equal(d.readbackBytes, 36);
  assert.equal(d.syncs, 2, "the read and the sync each wait once");
  assert.ok(d.submits >= 1 && d.uniformBytes > 0);
  assert.ok(d.waitMs >= 0);
});
