import assert from "node:assert/strict";
import { erfcRef, geluBackwardRef, geluForwardRef } from "./gelu.ts";
import { gelu } from "../lib/ops/gelu.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// The erfc fit has 1.2e-7 relative error, and rounding x/√2 moves exp(−x²/2) by up to 2e-6
// relative at |x| = 8: rtol 1e-5 covers both; atol 1e-7 covers outputs that are nearly 0.
const TOL = { atol: 1e-7, rtol: 1e-5 };

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

Deno.test("erfcRef() matches tabulated erfc to 1e-13 relative", () => {
  // Abramowitz and Stegun, table 7.1, and erfc(−x) = 2 − erfc(x).
  const table: [number, number][] = [
    [0.5, 0.4795001221869534623],
    [1, 0.1572992070502851307],
    [2, 0.004677734981047265838],
    [3, 2.209049699858544137e-5],
    [5, 1.5374597944280348502e-12],
    [-1, 1.8427007929497148693],
  ];
  for (const [x, v] of table) {
    assert.ok(Math.abs(erfcRef(x) - v) <= 1e-13 * v, `erfc(${x}) = ${erfcRef(x)}, expected ${v}`);
  }
});

// Odd sizes run the scalar kernels, multiples of 4 the vec4 ones.
for (const [n, lo, hi] of [[1025, -6, 6], [200_003, -8, 8], [1028, -6, 6], [200_004, -8, 8]]) {
  gpuTest(`gelu() forward and backward match float64 reference for n=${n}`, async (gpu) => {
    const seed = 31;
    const rng = new Rng(seed);
    const x = f32(rng.array(n, lo, hi)), dout = f32(rng.array(n));
    const tx = fromArray(gpu, x, [n]);
    tx.requiresGrad = true;
    const y = gelu({ x: tx });
    assertAllClose(await y.read(), geluForwardRef(x), { ...TOL, seed, label: "gelu" });
    backward(y, fromArray(gpu, dout, [n]));
    assertAllClose(await tx.grad!.read(), geluBackwardRef(x, dout), { ...TOL, seed, label: "dx" });
    tx.grad!.dispose();
  });
}

for (const extra of [[], [-5, 5, 1]]) {
  const x = [-300, 300, -1e30, 1e30, -40, 40, 0, 1e-30, -1e-30, ...extra];
  gpuTest(
    `gelu() is exact and NaN-free at ±300 and other extreme inputs (n=${x.length})`,
    async (gpu) => {
      const tx = fromArray(gpu, x, [x.length]);
      tx.requiresGrad = true;
      const y = gelu({ x: tx });
      const out = await y.readFloat();
      assert.deepEqual(
        [...out.slice(0, 6)].map((v) => v + 0),
        [0, 300, 0, 1e30, 0, 40].map(Math.fround),
      );
      assert.ok(out.every(Number.isFinite), `non-finite gelu: ${out}`);
      assertAllClose(out, geluForwardRef(Float64Array.from(x)), { atol: 0, rtol: 1e-6 });
      backward(y, fromArray(gpu, new Float64Array(x.length).fill(1), [x.length]));
      const dx = await tx.grad!.readFloat();
      assert.deepEqual([...dx.slice(0, 6)], [0, 1, 0, 1, 0, 1]);
      assertAllClose(
        dx,
        geluBackwardRef(Float64Array.from(x), new Float64Array(x.length).fill(1)),
        {
          atol: 1e-7,
          rtol: 1e-6,
        },
      );
      tx.grad!.dispose();
    },
  );
}

gpuTest("gelu() rejects an i32 tensor", (gpu) => {
  const xi = fromArray(gpu, [1, 2], [2], { dtype: "i32" });
  assert.throws(
    () => gelu({ x: xi }),
    (e) => e instanceof TypeError && /Cannot run "gelu": "x" is i32/.test(e.message),
  );
});

Deno.test("gelu reference passes gradcheck", () => {
  const x = new Rng(8).array(40, -5, 5);
  gradcheck(([v]) => geluForwardRef(v), ([v], d) => [geluBackwardRef(v, d)], [x]);
});
