import { gradScaleRef } from "./grad_scale.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { gradScale } from "./grad_scale.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { Rng } from "../tests/_util/rng.ts";

for (const n of [1, 1001, 70001]) {
  gpuTest(`grad_scale matches the float64 reference at n=${n}`, async (gpu) => {
    const seed = 50 + n, rng = new Rng(seed);
    const g = rng.array(n, -1e4, 1e4).map(Math.fround);
    const t = fromArray(gpu, g, [n]);
    const factor = 0.37 / 65536;
    dispatch(gradScale, { grad: t }, { n, factor });
    // One f32 multiply (factor itself rounded to f32): 2 ulps relative.
    assertAllClose(await t.read(), gradScaleRef(g, factor), { atol: 0, rtol: 2 ** -22, seed });
  });
}
