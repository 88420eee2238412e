import assert from "node:assert/strict";
import { filmBackwardRef, filmForwardRef, type FilmSizes } from "./film.ts";
import { blockDiagBackwardRef, blockDiagForwardRef } from "./block_diag.ts";
import { film } from "../lib/ops/film.ts";
import { blockDiag } from "../lib/ops/block_diag.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

const FILM_CASES: FilmSizes[] = [
  { B: 3, R: 13, D: 769, shared: false },
  { B: 5, R: 1, D: 300, shared: true },
  { B: 4, R: 128, D: 22, shared: true }, // CBDA: A [L, c] shared by the batch
  { B: 8, R: 128, D: 768, shared: false }, // conditional alignment at BERT-base width
];

for (const s of FILM_CASES) {
  gpuTest(`film() forward and backward match float64 at ${JSON.stringify(s)}`, async (gpu) => {
    const rng = new Rng(11);
    const xShape = s.shared ? [s.R, s.D] : [s.B, s.R, s.D];
    const x = rng.array(xShape.reduce((p, d) => p * d, 1));
    const gb = rng.array(s.B * 2 * s.D, -0.5, 0.5);
    const tx = fromArray(gpu, x, xShape), tg = fromArray(gpu, gb, [s.B, 2 * s.D]);
    tx.requiresGrad = tg.requiresGrad = true;
    const out = film({ x: tx, gb: tg });
    assertAllClose(await out.read(), filmForwardRef(x, gb, s), { atol: 1e-6, rtol: 1e-5 });
    const dout = rng.array(out.size);
    backward(out, fromArray(gpu, dout, out.shape));
    const [dx, dgb] = filmBackwardRef(x, gb, dout, s);
    // Sums over up to 128 rows or 8 examples in f32: 1e-5 relative plus a small floor.
    assertAllClose(await tx.grad!.read(), dx, { atol: 1e-5, rtol: 1e-4, label: "dx" });
    assertAllClose(await tg.grad!.read(), dgb, { atol: 1e-4, rtol: 1e-4, label: "dgb" });
    for (const t of [tx, tg]) t.grad!.dispose();
  });
}

Deno.test("film reference passes gradcheck, per-example and shared", () => {
  const rng = new Rng(2);
  for (const s of [{ B: 2, R: 3, D: 4, shared: false }, { B: 3, R: 2, D: 5, shared: true }]) {
    const nx = s.shared ? s.R * s.D : s.B * s.R * s.D;
    gradcheck(
      ([x, gb]) => filmForwardRef(x, gb, s),
      ([x, gb], d) => filmBackwardRef(x, gb, d, s),
      [rng.array(nx), rng.array(s.B * 2 * s.D)],
    );
  }
});

gpuTest("film() with a zero generator is the identity", async (gpu) => {
  const x = Float64Array.from(Float32Array.from(new Rng(3).array(2 * 5 * 7)));
  const out = film({
    x: fromArray(gpu, x, [2, 5, 7]),
    gb: fromArray(gpu, new Float64Array(28), [2, 14]),
  });
  assertAllClose(await out.read(), x, { atol: 0, rtol: 0 });
});

gpuTest("film() rejects a generator of the wrong width", (gpu) => {
  const x = fromArray(gpu, new Float32Array(12), [2, 2, 3]);
  assert.throws(
    () => film({ x, gb: fromArray(gpu, new Float32Array(10), [2, 5]) }),
    /Cannot run "film"/,
  );
});

const BD_CASES = [
  { B: 2, L: 128, c: 22, T: 128 }, // base: blocks 22,22,22,22,22,18
  { B: 2, L: 128, c: 22, T: 37 }, // dynamic padding crop
  { B: 3, L: 128, c: 16, T: 128 }, // large: 8 blocks of 16
  { B: 1, L: 64, c: 6, T: 64 }, // torch.chunk gives 11 chunks for 12 requested
];

for (const s of BD_CASES) {
  gpuTest(`blockDiag() matches float64 at ${JSON.stringify(s)}`, async (gpu) => {
    const rng = new Rng(5);
    // A pure copy: compare exactly against inputs rounded to f32.
    const x = Float64Array.from(Float32Array.from(rng.array(s.B * s.L * s.c)));
    const tx = fromArray(gpu, x, [s.B, s.L, s.c]);
    tx.requiresGrad = true;
    const out = blockDiag({ x: tx }, { size: s.T });
    assertAllClose(await out.read(), blockDiagForwardRef(x, s), { atol: 0, rtol: 0 });
    const dout = Float64Array.from(Float32Array.from(rng.array(out.size)));
    backward(out, fromArray(gpu, dout, out.shape));
    assertAllClose(await tx.grad!.read(), blockDiagBackwardRef(dout, s), { atol: 0, rtol: 0 });
    tx.grad!.dispose();
  });
}

Deno.test("block geometry: (768, 128) gives 22,22,22,22,22,18 and (1024, 128) 8 blocks of 16", () => {
  const blocks = (H: number, L: number) => {
    const N = Math.floor(H / L), c = Math.ceil(L / N);
    // Read the block sizes off the reference: count rows whose diagonal block starts at j.
    const M = blockDiagForwardRef(new Float64Array(L * c).fill(1), { B: 1, L, c, T: L });
    const sizes: number[] = [];
    for (let r = 0; r < L;) {
      let w = 0;
      while (r + w < L && M[(r + w) * L + r] === 1) w++;
      sizes.push(w);
      r += w;
    }
    return sizes;
  };
  assert.deepEqual(blocks(768, 128), [22, 22, 22, 22, 22, 18]);
  assert.deepEqual(blocks(1024, 128), Array(8).fill(16));
});

Deno.test("blockDiag reference passes gradcheck", () => {
  const s = { B: 2, L: 7, c: 3, T: 5 };
  gradcheck(
    ([x]) => blockDiagForwardRef(x, s),
    (_, d) => [blockDiagBackwardRef(d, s)],
    [new Rng(9).array(s.B * s.L * s.c)],
  );
});
