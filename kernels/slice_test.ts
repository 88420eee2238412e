import assert from "node:assert/strict";
import { concatRef, sliceBackwardRef, sliceRef } from "./slice.ts";
import { axisView } from "./reduce.ts";
import { concat, slice } from "../lib/ops/slice.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const f32 = (x: Float64Array) => Float64Array.from(Float32Array.from(x));
const EXACT = { atol: 0, rtol: 0 }; // copies move bits

// [shape, axis, start, end]: the [CLS] row, a C=769 range, axis 0, negative axis, rank 4.
const SLICES: [number[], number, number, number][] = [
  [[3, 13, 769], 1, 0, 1],
  [[3, 13, 769], 2, 5, 700],
  [[40, 3000], 0, 7, 33],
  [[2, 3, 5, 7], -1, 2, 5],
  [[2, 3, 5, 7], 1, 1, 3],
];

for (const [shape, axis, start, end] of SLICES) {
  gpuTest(
    `slice() over axis ${axis} [${start}, ${end}) of [${shape}] matches reference`,
    async (gpu) => {
      const rng = new Rng(start + end);
      const x = f32(rng.array(size(shape)));
      const xt = fromArray(gpu, x, shape);
      xt.requiresGrad = true;
      const out = slice({ x: xt }, { axis, start, end });
      const v = axisView(shape, axis);
      assert.equal(out.shape[v.axis], end - start);
      assertAllClose(
        await out.read(),
        sliceRef(x, [v.outer, v.r, v.inner], start, end - start),
        EXACT,
      );
      const d = f32(rng.array(out.size));
      backward(out, fromArray(gpu, d, out.shape));
      const dx = sliceBackwardRef(d, [v.outer, v.r, v.inner], start, end - start);
      assertAllClose(await xt.grad!.read(), dx, EXACT);
      xt.grad!.dispose();
    },
  );
}

// [a shape, b shape, axis]
const CONCATS: [number[], number[], number][] = [
  [[2, 5, 7], [2, 3, 7], 1],
  [[13, 769], [1, 769], 0],
  [[4, 3, 2], [4, 3, 5], -1],
  [[2, 3, 8], [2, 5, 8], 1], // inner 8: vec4 copies
];

for (const [sa, sb, axis] of CONCATS) {
  gpuTest(`concat() of [${sa}] and [${sb}] over axis ${axis} matches reference`, async (gpu) => {
    const rng = new Rng(size(sa));
    const a = f32(rng.array(size(sa))), b = f32(rng.array(size(sb)));
    const at = fromArray(gpu, a, sa), bt = fromArray(gpu, b, sb);
    at.requiresGrad = bt.requiresGrad = true;
    const out = concat({ a: at, b: bt }, { axis });
    const va = axisView(sa, axis), vb = axisView(sb, axis);
    assertAllClose(await out.read(), concatRef(a, b, [va.outer, va.r, vb.r, va.inner]), EXACT);
    const d = f32(rng.array(out.size));
    backward(out, fromArray(gpu, d, out.shape));
    const whole: [number, number, number] = [va.outer, va.r + vb.r, va.inner];
    assertAllClose(await at.grad!.read(), sliceRef(d, whole, 0, va.r), EXACT);
    assertAllClose(await bt.grad!.read(), sliceRef(d, whole, va.r, vb.r), EXACT);
    at.grad!.dispose();
    bt.grad!.dispose();
  });
}

gpuTest("slice() and concat() copy i32 tensors and reject bad arguments", async (gpu) => {
  const ids = fromArray(gpu, [1, -2, 3, 4, 5, 6], [2, 3], { dtype: "i32" });
  const s = slice({ x: ids }, { axis: 1, start: 1, end: 3 });
  assert.equal(s.dtype, "i32");
  assert.deepEqual([...await s.read()], [-2, 3, 5, 6]);
  assert.throws(() => slice({ x: ids }, { axis: 1, start: 2, end: 4 }), RangeError);
  assert.throws(() => slice({ x: ids }, { axis: 2, start: 0, end: 1 }), RangeError);
  const f = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
  assert.throws(() => concat({ a: ids, b: f }, { axis: 0 }), /Cannot run "concat"/);
  assert.throws(() => concat({ a: f, b: fromArray(gpu, [1, 2], [1, 2]) }, { axis: 0 }), TypeError);
});

Deno.test("slice and concat references pass gradcheck", () => {
  const rng = new Rng(4);
  const dims: [number, number, number] = [2, 5, 3];
  gradcheck(
    ([x]) => sliceRef(x, dims, 1, 3),
    (_, d) => [sliceBackwardRef(d, dims, 1, 3)],
    [rng.array(30)],
  );
  const cd: [number, number, number, number] = [2, 3, 2, 4];
  gradcheck(
    ([a, b]) => concatRef(a, b, cd),
    (_, d) => [sliceRef(d, [2, 5, 4], 0, 3), sliceRef(d, [2, 5, 4], 3, 2)],
    [rng.array(24), rng.array(16)],
  );
});
