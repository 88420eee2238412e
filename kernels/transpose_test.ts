import { transpose4, transposeRef } from "./transpose.ts";
import { empty, fromArray } from "../lib/autograd/tensor.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { Rng } from "../tests/_util/rng.ts";

// 4×4, a block count that is not a multiple of the 64-wide workgroup (33 × 17 blocks), a tall
// and a wide matrix, and BERT-base's FFN weight.
for (const [rows, cols] of [[4, 4], [132, 68], [1028, 8], [8, 516], [3072, 768]]) {
  gpuTest(`transpose4 moves every word like the reference at [${rows}, ${cols}]`, async (gpu) => {
    const x = Float64Array.from(Float32Array.from(new Rng(rows + cols).array(rows * cols)));
    const out = empty(gpu, [cols, rows]);
    dispatch(transpose4, { inp: fromArray(gpu, x, [rows, cols]), out }, {
      r4: rows / 4,
      c4: cols / 4,
    });
    assertAllClose(await out.read(), transposeRef(x, rows, cols), { atol: 0, rtol: 0 });
  });
}
