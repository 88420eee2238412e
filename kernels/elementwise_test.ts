import assert from "node:assert/strict";
import { binaryForwardRef, reduceToRef } from "./elementwise.ts";
import { accumulateInto, fillTensor, zeros } from "../lib/autograd/accumulate.ts";
import { add, mul, reduceToShape, scale } from "../lib/ops/elementwise.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

const CASES: [number[], number[]][] = [
  [[769], [769]],
  [[13, 769], [769]],
  [[3, 13, 7], [3, 1, 7]],
  [[2, 3, 5, 7], [1, 3, 1, 7]],
  [[4, 1], [1, 5]],
  [[300, 1000], [300, 1000]], // one shape: vec4 kernel over many workgroups
  [[7, 12], [7, 12]], // one shape, 21 vec4s: a partial workgroup
  [[3, 5, 12], [5, 12]], // b repeats along a's leading dimension: the tail kernel
  [[1, 5, 12], [3, 5, 12]], // a repeats
  [[2, 7, 8], [1, 7, 8]], // b with a leading 1
  [[300, 1000], [1000]], // b repeats, many workgroups
  [[5, 6], [2, 5, 6]], // a repeats, [5, 6] is 7.5 vec4s: the general kernel
];

for (const [sa, sb] of CASES) {
  for (const op of ["add", "mul"] as const) {
    gpuTest(`${op}() matches float64 reference for [${sa}] and [${sb}]`, async (gpu) => {
      const rng = new Rng(7);
      const a = rng.array(sa.reduce((p, d) => p * d, 1));
      const b = rng.array(sb.reduce((p, d) => p * d, 1));
      const ta = fromArray(gpu, a, sa), tb = fromArray(gpu, b, sb);
      const out = (op === "add" ? add : mul)({ a: ta, b: tb });
      assertAllClose(await out.read(), binaryForwardRef(a, sa, b, sb, op), {
        atol: 1e-6,
        rtol: 1e-6,
        seed: 7,
      });
    });
  }
}

gpuTest("reduceToShape() sums broadcast dimensions like the float64 reference", async (gpu) => {
  const rng = new Rng(3);
  for (
    const [full, small] of [[[5, 13, 769], [769]], [[2, 3, 5, 7], [1, 3, 1, 7]], [[6, 4], [6, 1]]]
  ) {
    const x = rng.array(full.reduce((p, d) => p * d, 1));
    const out = reduceToShape(fromArray(gpu, x, full), small);
    assertAllClose(await out.read(), reduceToRef(x, full, small), { atol: 1e-5, rtol: 1e-5 });
  }
});

for (const n of [13, 12, 4100]) {
  gpuTest(`accumulateInto() adds s · src in place for n=${n}`, async (gpu) => {
    const rng = new Rng(n);
    const d = rng.array(n), src = rng.array(n);
    const dst = fromArray(gpu, d, [n]);
    accumulateInto(dst, fromArray(gpu, src, [n]), -0.5);
    assertAllClose(await dst.read(), d.map((v, i) => v - 0.5 * src[i]), { atol: 1e-6, rtol: 1e-6 });
  });
}

gpuTest("scale() multiplies by a constant", async (gpu) => {
  const x = new Rng(4).array(1025);
  const out = scale({ a: fromArray(gpu, x, [1025]) }, { s: -2.5 });
  assertAllClose(await out.read(), x.map((v) => -2.5 * v), { atol: 1e-6, rtol: 1e-6 });
});

Deno.test("binary references pass gradcheck with broadcasting", () => {
  const rng = new Rng(5);
  const sa = [3, 4, 5], sb = [4, 1];
  const fwd = (op: "add" | "mul") => ([a, b]: Float64Array[]) => binaryForwardRef(a, sa, b, sb, op);
  const full = [3, 4, 5];
  const bwdAdd = (_: Float64Array[], d: Float64Array) => [
    reduceToRef(d, full, sa),
    reduceToRef(d, full, sb),
  ];
  const bwdMul = ([a, b]: Float64Array[], d: Float64Array) => [
    reduceToRef(binaryForwardRef(d, full, b, sb, "mul"), full, sa),
    reduceToRef(binaryForwardRef(d, full, a, sa, "mul"), full, sb),
  ];
  const inputs = () => [rng.array(60), rng.array(4)];
  gradcheck(fwd("add"), bwdAdd, inputs());
  gradcheck(fwd("mul"), bwdMul, inputs());
});

gpuTest("add() rejects shapes that do not broadcast and int tensors", (gpu) => {
  const a = fromArray(gpu, [1, 2, 3], [3]);
  const b = fromArray(gpu, [1, 2], [2]);
  assert.throws(() => add({ a, b }), /Cannot broadcast shapes \[3\] and \[2\]/);
  const i = fromArray(gpu, [1, 2, 3], [3], { dtype: "i32" });
  assert.throws(() => add({ a, b: i }), TypeError);
});

gpuTest(
  "fillTensor() and zeros() set every element, scalar and vec4 kernels alike",
  async (gpu) => {
    // 1, 7 and 1_031 take `fill`; 4, 1_028 and 4 · 70_001 take `fill_vec4` (none a multiple of
    // the workgroup's 256 invocations).
    for (const n of [1, 7, 1_031, 4, 1_028, 4 * 70_001]) {
      const t = fromArray(gpu, new Rng(n).array(n), [n]);
      fillTensor(t, -2.5);
      assert.ok((await t.read()).every((v) => v === -2.5), `fill n=${n}`);
      assert.ok((await zeros(gpu, [n]).read()).every((v) => v === 0), `zeros n=${n}`);
    }
  },
);
