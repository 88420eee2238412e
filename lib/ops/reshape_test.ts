import assert from "node:assert/strict";
import { reshape } from "./reshape.ts";
import { sum } from "./reduce.ts";
import { fromArray, Tensor } from "../autograd/tensor.ts";
import { backward } from "../autograd/backward.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";

gpuTest("reshape() is a zero-copy view that infers one -1 dimension", async (gpu) => {
  const x = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
  const y = reshape(x, [-1, 2]);
  assert.deepEqual(y.shape, [3, 2]);
  assert.equal(y.buffer, x.buffer);
  x.write([6, 5, 4, 3, 2, 1]);
  assert.deepEqual([...await y.read()], [6, 5, 4, 3, 2, 1]);
  const ids = reshape(fromArray(gpu, [1, 2, 3, 4], [2, 2], { dtype: "i32" }), [4]);
  assert.equal(ids.dtype, "i32");
});

gpuTest("reshape() passes the gradient back in the input's shape", async (gpu) => {
  const x = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
  x.requiresGrad = true;
  const y = reshape(x, [3, 2]);
  backward(sum({ x: y }, { axis: 0 }), fromArray(gpu, [10, 20], [2]));
  assert.deepEqual(x.grad!.shape, [2, 3]);
  assert.deepEqual([...await x.grad!.read()], [10, 20, 10, 20, 10, 20]);
  x.grad!.dispose();
});

gpuTest("a view keeps its buffer alive after the base is disposed", async (gpu) => {
  const live = gpu.pool.stats().liveBytes;
  const base = new Tensor(gpu, [4], { persistent: true });
  base.write([1, 2, 3, 4]);
  const v = new Tensor(gpu, [2, 2], { persistent: true, viewOf: base });
  base.dispose();
  assert.deepEqual([...await v.read()], [1, 2, 3, 4]);
  assert.ok(gpu.pool.stats().liveBytes > live);
  v.dispose();
  assert.equal(gpu.pool.stats().liveBytes, live);
  assert.throws(() => new Tensor(gpu, [4], { viewOf: v }), /it was disposed/);
});

gpuTest("reshape() rejects shapes of another size", (gpu) => {
  const x = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
  assert.throws(() => reshape(x, [4, 2]), /Cannot reshape \[2, 3\] to \[4, 2\]: sizes differ/);
  assert.throws(() => reshape(x, [-1, 4]), TypeError);
  assert.throws(() => reshape(x, [-1, -1]), TypeError);
});
