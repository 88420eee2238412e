import assert from "node:assert/strict";
import { SINGLE_PASS_MAX, sumBackwardRef, sumRef } from "./reduce.ts";
import { mean, sum } from "../lib/ops/reduce.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

// f32 sums of n values in [-1, 1): rounding error grows like sqrt(n)·2^-24 times the running
// magnitude; 1e-4 relative plus 1e-4 absolute covers n up to 1e5 with a wide margin.
const TOL = { atol: 1e-4, rtol: 1e-4 };

for (const n of [1, 769, SINGLE_PASS_MAX + 1, 300_007]) {
  gpuTest(`sum() and mean() over all ${n} elements match float64 reference`, async (gpu) => {
    const x = new Rng(n).array(n);
    const t = fromArray(gpu, x, [n]);
    assertAllClose(await sum({ x: t }).read(), sumRef(x, [n]), { ...TOL, seed: n });
    assertAllClose(await mean({ x: t }).read(), sumRef(x, [n], undefined, 1 / n), {
      ...TOL,
      seed: n,
    });
  });
}

const AXES: [number[], number][] = [
  [[13, 769], 0],
  [[13, 769], 1],
  [[13, 769], -1],
  [[3, 5, 7, 9], 1],
  [[3, 5, 7, 9], 2],
  [[2, 100, 3000], 1], // 6000 outputs: one invocation per output
  [[5000, 3], 0],
  [[4], 0], // rank 1 → [1]
];

for (const [shape, axis] of AXES) {
  gpuTest(
    `sum() and mean() over axis ${axis} of [${shape}] match float64 reference`,
    async (gpu) => {
      const x = new Rng(3).array(size(shape));
      const t = fromArray(gpu, x, shape);
      const s = sum({ x: t }, { axis });
      const outShape = shape.filter((_, k) => k !== (axis < 0 ? axis + shape.length : axis));
      assert.deepEqual(s.shape, outShape.length ? outShape : [1]);
      assertAllClose(await s.read(), sumRef(x, shape, axis), { ...TOL, seed: 3 });
      const r = shape[axis < 0 ? axis + shape.length : axis];
      assertAllClose(await mean({ x: t }, { axis }).read(), sumRef(x, shape, axis, 1 / r), {
        ...TOL,
        seed: 3,
      });
    },
  );
}

gpuTest("sum() and mean() backward broadcast the output gradient", async (gpu) => {
  const rng = new Rng(11);
  for (const [shape, axis] of [[[13, 77], 0], [[3, 5, 7], 1], [[1000], undefined]] as const) {
    for (const op of [sum, mean]) {
      const x = fromArray(gpu, rng.array(size([...shape])), shape);
      x.requiresGrad = true;
      const out = op({ x }, { axis });
      const d = rng.array(out.size);
      backward(out, fromArray(gpu, d, out.shape));
      const r = axis === undefined ? size([...shape]) : shape[axis];
      const scale = op === mean ? 1 / r : 1;
      assertAllClose(await x.grad!.read(), sumBackwardRef(d, shape, axis, scale), {
        atol: 1e-7,
        rtol: 1e-6,
      });
      x.grad!.dispose();
    }
  }
});

gpuTest("sum() is bitwise deterministic across runs", async (gpu) => {
  const x = fromArray(gpu, new Rng(5).array(200_003), [200_003]);
  const a = await sum({ x }).read(), b = await sum({ x }).read();
  assert.deepEqual(a, b);
});

gpuTest("sum() rejects i32 inputs and axes out of range", (gpu) => {
  const i = fromArray(gpu, [1, 2, 3], [3], { dtype: "i32" });
  assert.throws(() => sum({ x: i }), /Cannot run "sum": "x" is i32, expected f32/);
  const x = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
  assert.throws(() => mean({ x }, { axis: 2 }), RangeError);
  assert.throws(() => sum({ x }, { axis: -3 }), /Cannot run "sum" on \[2, 2\] over axis -3/);
});

Deno.test("sum reference passes gradcheck over all elements and over an axis", () => {
  const rng = new Rng(2);
  const shape = [3, 4, 5];
  for (const axis of [undefined, 0, 1, 2]) {
    gradcheck(
      ([x]) => sumRef(x, shape, axis, 0.5),
      (_, d) => [sumBackwardRef(d, shape, axis, 0.5)],
      [rng.array(60)],
    );
  }
});
