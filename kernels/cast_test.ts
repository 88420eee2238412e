import assert from "node:assert/strict";
import { castF32ToF16Ref, F16_MAX } from "./cast.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { castTensor } from "../lib/ops/cast.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { Rng } from "../tests/_util/rng.ts";

/** Asserts bit-exact equality (NaN matching NaN, infinities matching themselves). */
function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) bad.push(`[${i}] ${a} ≠ ${e}`);
  }
  assert.equal(bad.length, 0, `${label}: ${bad.length} differ, first ${bad.slice(0, 3)}`);
}

/** Normals spread over 2^-30 … 2^20 in magnitude, so normal, subnormal and overflowing f16 appear. */
function spread(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rng.normal() * 2 ** rng.uniform(-30, 20));
  return out;
}

const SPECIAL = [
  0,
  -0,
  1,
  F16_MAX,
  65519.99, // rounds down to 65504
  65520, // the first value that rounds to inf
  -70000,
  1e9,
  2 ** -24, // smallest f16 subnormal
  3 * 2 ** -26, // ties between subnormals, to even
  1 + 2 ** -11, // tie between 1 and 1 + 2^-10, to even (1)
  1 + 3 * 2 ** -11, // tie, to even (1 + 2^-9)
  Infinity,
  -Infinity,
  NaN,
];

for (const n of [1, 7, 1001, 70001]) {
  gpuTest(`castTensor() to f16 and back matches the float64 reference at n=${n}`, async (gpu) => {
    const seed = 40 + n, rng = new Rng(seed);
    const x = spread(rng, n);
    if (n >= SPECIAL.length) x.set(SPECIAL);
    const t = fromArray(gpu, x, [n]);
    const half = castTensor(t, "f16");
    assert.equal(half.dtype, "f16");
    assert.equal(half.byteLength, 2 * n);
    const ref = castF32ToF16Ref(x);
    // Rounding to f16 is exact arithmetic: every value must be bit-identical (NaN for NaN).
    assertSame(await half.read(), ref, `f16, seed ${seed}`);
    const back = castTensor(half, "f32");
    assertSame(await back.read(), ref, `f16 → f32, seed ${seed}`);
  });
}

gpuTest("castTensor() overflows to signed infinity past 65504", async (gpu) => {
  const got = await castTensor(fromArray(gpu, [65504, 65519, 65520, -1e6, NaN], [5]), "f16")
    .read();
  assert.deepEqual([...got.slice(0, 4)], [65504, 65504, Infinity, -Infinity]);
  assert.ok(Number.isNaN(got[4]));
});

gpuTest("castTensor() rejects i32 tensors with a TypeError", (gpu) => {
  const t = fromArray(gpu, [1, 2], [2], { dtype: "i32" });
  assert.throws(
    () => castTensor(t, "f16"),
    (e) => e instanceof TypeError && /^Cannot cast .* to f16: only f32 and f16/.test(e.message),
  );
});

Deno.test("castF32ToF16Ref() rounds to nearest even with overflow to infinity", () => {
  const got = castF32ToF16Ref([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519.99, 65520, 2 ** -26]);
  assert.deepEqual([...got], [1, 1 + 2 ** -9, 65504, Infinity, 0]);
});
