import assert from "node:assert/strict";
import { gatherRowsRef } from "./embedding.ts";
import { scatterAddRef } from "./scatter_add.ts";
import { checkIds, embedding } from "../lib/ops/embedding.ts";
import { gatherRows } from "../lib/ops/gather.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

/** Token ids where a fraction `padShare` is id 0 (padding), the rest uniform in [0, V). */
function tokenIds(rng: Rng, n: number, v: number, padShare = 0): Int32Array {
  return Int32Array.from({ length: n }, () => rng.next() < padShare ? 0 : rng.int(v));
}

// [V, C, ids shape, share of padding]: C not a multiple of the workgroup; the CA-MTL vocab
// with 4096 tokens, mostly padding (a segment far longer than CHUNK, two radix passes).
const CASES: [number, number, number[], number][] = [
  [50, 769, [3, 13], 0.2],
  [28_996, 24, [32, 128], 0.7],
  [1, 5, [7], 0],
];

for (const [v, c, idShape, pad] of CASES) {
  gpuTest(
    `embedding() forward and backward match float64 reference at V=${v}, C=${c}, ids [${idShape}]`,
    async (gpu) => {
      const rng = new Rng(v + c);
      const n = idShape.reduce((p, d) => p * d, 1);
      // Table values rounded to f32 first, so that the gather can be compared exactly.
      const w = Float64Array.from(Float32Array.from(rng.array(v * c))),
        ids = tokenIds(rng, n, v, pad),
        d = rng.array(n * c);
      const weight = fromArray(gpu, w, [v, c]);
      weight.requiresGrad = true;
      const out = embedding({ weight }, { ids: fromArray(gpu, ids, idShape, { dtype: "i32" }) });
      assert.deepEqual(out.shape, [...idShape, c]);
      // A gather copies bits: exact.
      assertAllClose(await out.read(), gatherRowsRef(w, ids, c), { atol: 0, rtol: 0 });
      backward(out, fromArray(gpu, d, out.shape));
      // Sums of up to ~2900 values in [-1, 1) in f32: error below 1e-5 absolute.
      assertAllClose(await weight.grad!.read(), scatterAddRef(d, ids, v, c), {
        atol: 1e-4,
        rtol: 1e-5,
        seed: v + c,
      });
      weight.grad!.dispose();
    },
  );
}

gpuTest("embedding() backward is bitwise deterministic and honours paddingIdx", async (gpu) => {
  const rng = new Rng(12);
  const v = 1000, c = 33, n = 3000;
  const ids = tokenIds(rng, n, v, 0.5);
  const idsT = fromArray(gpu, ids, [n], { dtype: "i32" });
  const d = fromArray(gpu, rng.array(n * c, -100, 100), [n, c]);
  const grads: Float32Array[] = [];
  for (const paddingIdx of [undefined, undefined, 0]) {
    const weight = fromArray(gpu, rng.array(v * c), [v, c]);
    weight.requiresGrad = true;
    backward(embedding({ weight }, { ids: idsT, paddingIdx }), d);
    grads.push(await weight.grad!.readFloat());
    weight.grad!.dispose();
  }
  assert.deepEqual(grads[0], grads[1]);
  assert.ok(grads[0].subarray(0, c).some((x) => x !== 0));
  assert.ok(grads[2].subarray(0, c).every((x) => x === 0));
  assert.deepEqual(grads[2].subarray(c), grads[0].subarray(c));
});

gpuTest(
  "embedding() clamps out-of-range ids and reports the first at the next read",
  async (gpu) => {
    const w = Float64Array.of(1, 2, 3, 4, 5, 6);
    const ids = Int32Array.of(-5, 2, 99);
    const out = embedding({ weight: fromArray(gpu, w, [3, 2]) }, {
      ids: fromArray(gpu, ids, [3], { dtype: "i32" }),
    });
    await assert.rejects(
      out.read(),
      /Cannot run "embedding" on ids: value (-5 at \[0\]|99 at \[2\]) is outside \[0, 3\) \(rows of "weight"\) \(2 bad values in all\)/,
    );
    // The report cleared the flag; the rows read were clamped, never out of bounds.
    assert.deepEqual([...await out.read()], [1, 2, 5, 6, 5, 6]);
  },
);

gpuTest("embedding() rejects f32 ids and a weight that is not [V, C]", (gpu) => {
  const weight = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => embedding({ weight }, { ids: fromArray(gpu, [0, 1], [2]) }),
    /Cannot run "embedding": "ids" is f32, expected i32/,
  );
  const ids = fromArray(gpu, [0, 1], [2], { dtype: "i32" });
  assert.throws(() => embedding({ weight: fromArray(gpu, [1, 2], [2]) }, { ids }), TypeError);
});

gpuTest("gatherRows() picks rows and scatter-adds repeated indices in backward", async (gpu) => {
  const rng = new Rng(21);
  const shape = [37, 3, 5], d = 15;
  const x = Float64Array.from(Float32Array.from(rng.array(37 * d)));
  const index = Int32Array.from({ length: 300 }, () => rng.int(37));
  index[0] = index[1] = index[2] = 36; // repeats at the edge
  const xt = fromArray(gpu, x, shape);
  xt.requiresGrad = true;
  const out = gatherRows({ x: xt }, { index: fromArray(gpu, index, [300], { dtype: "i32" }) });
  assert.deepEqual(out.shape, [300, 3, 5]);
  assertAllClose(await out.read(), gatherRowsRef(x, index, d), { atol: 0, rtol: 0 });
  const dout = rng.array(300 * d);
  backward(out, fromArray(gpu, dout, out.shape));
  assert.deepEqual(xt.grad!.shape, shape);
  assertAllClose(await xt.grad!.read(), scatterAddRef(dout, index, 37, d), {
    atol: 1e-5,
    rtol: 1e-5,
  });
  xt.grad!.dispose();
  const ids = fromArray(gpu, [7, 8, 9], [3], { dtype: "i32" });
  const picked = gatherRows({ x: ids }, { index: fromArray(gpu, [2, 0], [2], { dtype: "i32" }) });
  assert.deepEqual([...await picked.read()], [9, 7]);
  assert.throws(() => gatherRows({ x: xt }, { index: fromArray(gpu, [0], [1]) }), TypeError);
});

Deno.test("checkIds() names the first id outside the vocabulary", () => {
  checkIds(Int32Array.of(0, 5, 9), 10, "input_ids");
  assert.throws(
    () => checkIds(Int32Array.of(0, 10, -1), 10, "input_ids"),
    (e: Error) =>
      e instanceof RangeError &&
      e.message === 'Cannot look up "input_ids": id 10 at position 1 is outside [0, 10)',
  );
});

Deno.test("embedding reference passes gradcheck with repeated ids", () => {
  const rng = new Rng(3);
  const ids = Int32Array.of(2, 0, 2, 2, 4);
  gradcheck(
    ([w]) => gatherRowsRef(w, ids, 3),
    (_, d) => [scatterAddRef(d, ids, 5, 3)],
    [rng.array(15)],
  );
});
