import assert from "node:assert/strict";
import { dropoutForwardRef, dropoutMaskRef } from "./dropout.ts";
import { pcg3dRef, uniform24Ref } from "./_rng.ts";
import { dropout } from "../lib/ops/dropout.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";

const N = 200_003;

async function ones(gpu: Gpu, options: { p: number; seed: number; offset?: number }) {
  const x = fromArray(gpu, new Float32Array(N).fill(1), [N]);
  return await dropout({ x }, options).readFloat();
}

Deno.test("pcg3dRef() wraps 32-bit arithmetic as WGSL u32 does", () => {
  // Values from an independent big-integer evaluation (Python, every step mod 2³²).
  assert.deepEqual(pcg3dRef(0, 0, 0), [2611992518, 2833812075, 1058359340]);
  assert.deepEqual(pcg3dRef(123456789, 4294967295, 7), [3547044829, 163457914, 3774673780]);
  assert.equal(uniform24Ref(0, 0, 0), 2611992518 >>> 8);
});

// N takes the scalar kernel; 4 · 50_001 (not a multiple of the 256-wide workgroup) the vec4 one.
for (const n of [N, 4 * 50_001]) {
  gpuTest(
    `dropout() keeps exactly the elements of the float64 reference mask, n=${n}`,
    async (gpu) => {
      const params = { p: 0.1, seed: 1234, offset: 5 };
      const x = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) + 2));
      const y = await dropout({ x: fromArray(gpu, x, [n]) }, params).read();
      const ref = dropoutForwardRef(x, params);
      // Masks are integer hashes, so zeros must agree exactly; kept values carry two f32 roundings
      // (of the scale 1/(1 − p) and of the product), 2⁻²³ relative at most.
      for (let i = 0; i < n; i++) {
        if ((y[i] === 0) !== (ref[i] === 0)) {
          assert.fail(`mask differs at ${i}: ${y[i]} vs ${ref[i]}`);
        }
      }
      assertAllClose(y, ref, { atol: 0, rtol: 2 ** -23, label: "dropout" });
    },
  );
}

for (const p of [0.1, 0.5]) {
  gpuTest(`dropout(p=${p}) keeps 1 − p of ${N} elements and preserves the mean`, async (gpu) => {
    const y = await ones(gpu, { p, seed: 99 });
    let kept = 0, sum = 0;
    for (const v of y) {
      if (v !== 0) kept++;
      sum += v;
    }
    const sigma = Math.sqrt(p * (1 - p) / N);
    const frac = kept / N;
    assert.ok(
      Math.abs(frac - (1 - p)) < 4 * sigma,
      `kept ${frac}, expected ${1 - p} ± ${4 * sigma}`,
    );
    // Each output is 0 or 1/(1 − p): mean 1 with standard error √(p / ((1 − p)·N)).
    const mean = sum / N, se = Math.sqrt(p / ((1 - p) * N));
    assert.ok(Math.abs(mean - 1) < 4 * se, `mean ${mean}, expected 1 ± ${4 * se}`);
    assert.ok(y.every((v) => v === 0 || v === Math.fround(1 / (1 - p))), "kept value not 1/(1−p)");
  });
}

gpuTest("dropout() repeats for a seed and differs across seeds and offsets", async (gpu) => {
  const p = 0.5;
  const a = await ones(gpu, { p, seed: 7 });
  const again = await ones(gpu, { p, seed: 7 });
  assert.deepEqual(a, again);
  for (const other of [{ p, seed: 8 }, { p, seed: 7, offset: 1 }]) {
    const b = await ones(gpu, other);
    // Independent masks agree on p² + (1 − p)² = 1/2 of the elements.
    let same = 0;
    for (let i = 0; i < N; i++) if ((a[i] === 0) === (b[i] === 0)) same++;
    const sigma = Math.sqrt(0.25 / N);
    assert.ok(Math.abs(same / N - 0.5) < 4 * sigma, `masks agree on ${same / N} for ${other}`);
  }
});

gpuTest("dropout() backward applies the forward's mask and scale", async (gpu) => {
  const params = { p: 0.3, seed: 42, offset: 3 };
  const n = 10_007;
  const x = fromArray(gpu, new Float32Array(n).fill(2), [n]);
  x.requiresGrad = true;
  const y = dropout({ x }, params);
  const dy = Float64Array.from({ length: n }, (_, i) => (i % 7) - 3.5);
  backward(y, fromArray(gpu, dy, [n]));
  const dx = await x.grad!.read(), out = await y.read();
  const scale = Math.fround(1 / 0.7);
  for (let i = 0; i < n; i++) {
    const expected = out[i] === 0 ? 0 : Math.fround(dy[i] * scale);
    if (dx[i] !== expected) assert.fail(`dx[${i}] is ${dx[i]}, expected ${expected}`);
  }
  x.grad!.dispose();
});

gpuTest("dropout(p=0) returns its input without a dispatch; p=1 zeroes everything", async (gpu) => {
  const x = fromArray(gpu, [1, 2, 3], [3]);
  const before = gpu.recorder.stats.dispatches;
  assert.equal(dropout({ x }, { p: 0, seed: 1 }), x);
  assert.equal(gpu.recorder.stats.dispatches, before);
  assert.deepEqual([...await dropout({ x }, { p: 1, seed: 1 }).read()], [0, 0, 0]);
});

gpuTest("dropout() rejects i32 input and out-of-range p, seed or offset", (gpu) => {
  const x = fromArray(gpu, [1, 2, 3], [3]);
  const xi = fromArray(gpu, [1, 2, 3], [3], { dtype: "i32" });
  assert.throws(
    () => dropout({ x: xi }, { p: 0.1, seed: 1 }),
    (e) => e instanceof TypeError && /Cannot run "dropout": "x" is i32/.test(e.message),
  );
  assert.throws(() => dropout({ x }, { p: 1.5, seed: 1 }), /p is 1.5/);
  assert.throws(() => dropout({ x }, { p: Number.NaN, seed: 1 }), RangeError);
  assert.throws(() => dropout({ x }, { p: 0.1, seed: -1 }), /seed is -1/);
  assert.throws(() => dropout({ x }, { p: 0.1, seed: 1, offset: 0.5 }), RangeError);
});

Deno.test("dropout mask has no lag-1 correlation and its reference passes gradcheck", () => {
  const n = 100_000, p = 0.5;
  const m = dropoutMaskRef(n, { p, seed: 3 });
  let c = 0;
  for (let i = 0; i + 1 < n; i++) c += (m[i] - 0.5) * (m[i + 1] - 0.5);
  // Each product is ±1/4 for independent fair bits: the normalised sum has σ = 1/√n.
  assert.ok(Math.abs(c / (0.25 * n)) < 4 / Math.sqrt(n), `lag-1 correlation ${c / (0.25 * n)}`);
  const params = { p: 0.3, seed: 5, offset: 2 };
  const x = Float64Array.from({ length: 30 }, (_, i) => i / 7 - 2);
  gradcheck(([v]) => dropoutForwardRef(v, params), (_, d) => [dropoutForwardRef(d, params)], [x]);
});
