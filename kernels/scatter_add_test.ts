import assert from "node:assert/strict";
import { CHUNK, radixPasses, scatterAddRef } from "./scatter_add.ts";
import { scatterAddRows } from "../lib/ops/scatter_add.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { Rng } from "../tests/_util/rng.ts";

/**
 * The exact f32 order the kernels promise: each row's positions in ascending order, summed
 * one by one when there are at most CHUNK of them, otherwise in pieces cut at multiples of
 * CHUNK of the sorted order (sorted slot = rows before it + rank within the row).
 */
function scatterAddF32(src: Float32Array, index: Int32Array, rows: number, d: number) {
  const clamp = (i: number) => Math.min(Math.max(i, 0), rows - 1);
  const members: number[][] = Array.from({ length: rows }, () => []);
  index.forEach((id, m) => members[clamp(id)].push(m));
  const out = new Float32Array(rows * d);
  let slot = 0;
  for (let r = 0; r < rows; r++) {
    const ms = members[r];
    for (let c = 0; c < d; c++) {
      let acc = 0, piece = 0;
      for (let k = 0; k < ms.length; k++) {
        const x = src[ms[k] * d + c];
        if (ms.length <= CHUNK) {
          acc = Math.fround(acc + x);
          continue;
        }
        piece = Math.fround(piece + x);
        const s = slot + k;
        if (k === ms.length - 1 || (s + 1) % CHUNK === 0) {
          acc = Math.fround(acc + piece);
          piece = 0;
        }
      }
      out[r * d + c] = acc;
    }
    slot += ms.length;
  }
  return out;
}

// [rows, M, D]: radix passes 0, 1, 2 and 3; M not a multiple of the sort block; hot rows.
const CASES: [number, number, number][] = [
  [1, 40, 3],
  [2, 300, 5],
  [256, 1000, 7],
  [257, 2049, 4],
  [70_000, 5000, 2],
];

for (const [rows, m, d] of CASES) {
  gpuTest(
    `scatterAddRows() sums in ascending position order for ${m} rows into ${rows} (${
      radixPasses(rows)
    } radix passes)`,
    async (gpu) => {
      const rng = new Rng(rows + m);
      // Half the positions hit 3 hot rows (segments longer than CHUNK); some are out of range.
      const hot = [0, Math.floor(rows / 2), rows - 1];
      const index = Int32Array.from(
        { length: m },
        () => rng.next() < 0.5 ? hot[rng.int(3)] : rng.int(rows + 4) - 2,
      );
      const src = Float32Array.from(rng.array(m * d, -100, 100));
      const out = scatterAddRows(
        fromArray(gpu, src, [m, d]),
        fromArray(gpu, index, [m], { dtype: "i32" }),
        [rows, d],
      );
      const got = await out.readFloat();
      assert.deepEqual(got, scatterAddF32(src, index, rows, d));
      assertAllClose(got, scatterAddRef(Float64Array.from(src), index, rows, d), {
        atol: 1e-3,
        rtol: 1e-5,
        seed: rows + m,
      });
    },
  );
}

gpuTest("scatterAddRows() of zero positions gives zeros", async (gpu) => {
  const out = scatterAddRows(
    fromArray(gpu, [], [0, 3]),
    fromArray(gpu, [], [0], { dtype: "i32" }),
    [4, 3],
  );
  assert.deepEqual([...await out.read()], new Array(12).fill(0));
});
