import assert from "node:assert/strict";
import { tanhBackwardRef, tanhForwardRef } from "./tanh.ts";
import { tanh } from "../lib/ops/tanh.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// 1 − 2/(e^2|x| + 1) is within two f32 ulps of 1 absolute, i.e. < 1e-6 relative for
// |tanh| ≥ 0.29; the Taylor branch is exact to 6e-8. The backward from y adds 2·|y|·ulp(y).
const TOL = { atol: 1e-7, rtol: 1e-6 };
const BWD_TOL = { atol: 5e-7, rtol: 1e-5 };

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

for (const [n, lo, hi] of [[1025, -1, 1], [100_003, -12, 12]]) {
  gpuTest(`tanh() forward and backward match float64 reference for n=${n}`, async (gpu) => {
    const seed = 41;
    const rng = new Rng(seed);
    const x = f32(rng.array(n, lo, hi)), dout = f32(rng.array(n));
    const tx = fromArray(gpu, x, [n]);
    tx.requiresGrad = true;
    const y = tanh({ x: tx });
    assertAllClose(await y.read(), tanhForwardRef(x), { ...TOL, seed, label: "tanh" });
    backward(y, fromArray(gpu, dout, [n]));
    const dx = await tx.grad!.read();
    assertAllClose(dx, tanhBackwardRef(x, dout), { ...BWD_TOL, seed, label: "dx" });
    tx.grad!.dispose();
  });
}

gpuTest("tanh() gives exactly ±1 and no NaN for huge inputs", async (gpu) => {
  const x = [-1e30, 1e30, -300, 300, -89, 89, 0, -1e-30, 0.3, -0.3, 0.29999];
  const y = await tanh({ x: fromArray(gpu, x, [x.length]) }).readFloat();
  assert.deepEqual([...y.slice(0, 6)], [-1, 1, -1, 1, -1, 1]);
  assert.ok(y.every(Number.isFinite), `non-finite tanh: ${y}`);
  assertAllClose(y, tanhForwardRef(Float64Array.from(x)), { atol: 0, rtol: 1e-6 });
});

gpuTest("tanh() rejects an i32 tensor", (gpu) => {
  const xi = fromArray(gpu, [1, 2], [2], { dtype: "i32" });
  assert.throws(
    () => tanh({ x: xi }),
    (e) => e instanceof TypeError && /Cannot run "tanh": "x" is i32/.test(e.message),
  );
});

Deno.test("tanh reference passes gradcheck", () => {
  const x = new Rng(8).array(40, -3, 3);
  gradcheck(([v]) => tanhForwardRef(v), ([v], d) => [tanhBackwardRef(v, d)], [x]);
});
