/**
 * Embedding lookup and its deterministic scatter-add backward at the CA-MTL word-embedding
 * shape (`[V=28996, C=768]`, ids `[B=32, T=128]`, 60% padding id 0 as in GLUE batches). The
 * forward (one-word kernel, the first version, and the vec4 one the op uses) is compared with
 * a plain copy of the `[B·T, C]` output (`scale_forward`), the backward with `fill` of the
 * `[V, C]` gradient (the write it cannot avoid). The backward runs the whole chain: radix sort
 * (2 passes), segment starts, piece sums and the segment sum.
 *
 * Run: `deno bench -P bench/embedding_bench.ts`. GB/s = `gatherRowsCost()` /
 * `scatterAddCost()` bytes / time.
 *
 * @module
 */

import { fill, scaleForward } from "../kernels/elementwise.ts";
import { gatherRowsKernel, gatherRowsVec4 } from "../kernels/embedding.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { beginScope } from "../lib/autograd/scope.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { scatterAddRows } from "../lib/ops/scatter_add.ts";
import { Rng } from "../tests/_util/rng.ts";

const V = 28_996, C = 768, B = 32, T = 128, N = B * T;
const gpu = await requestGpu();
console.log(`embedding bench on "${gpu.adapter.description}"`);

const rng = new Rng(5);
const weight = fromArray(gpu, rng.array(V * C), [V, C]);
const ids = fromArray(
  gpu,
  Int32Array.from({ length: N }, () => rng.next() < 0.6 ? 0 : rng.int(V)),
  [
    N,
  ],
  { dtype: "i32" },
);
const dout = fromArray(gpu, rng.array(N * C), [N, C]);
const out = new Tensor(gpu, [N, C]), dweight = new Tensor(gpu, [V, C]);
const opts = { group: "embedding", n: 10, warmup: 2 };
const fwd = `[V=${V},C=${C},N=${N}]`;

Deno.bench(`scale_forward[N=${N},C=${C}]`, { ...opts, baseline: true }, async () => {
  dispatch(scaleForward, { a: dout, out }, { n: N * C, s: 1 });
  await gpu.sync();
});
Deno.bench(`gather_rows${fwd}`, opts, async () => {
  dispatch(gatherRowsKernel, { table: weight, index: ids, out }, {
    n: N * C,
    d: C,
    rows: V,
    site: 0,
  });
  await gpu.sync();
});
Deno.bench(`gather_rows_vec4${fwd}`, opts, async () => {
  dispatch(gatherRowsVec4, { table: weight, index: ids, out }, {
    n: N * C / 4,
    d: C / 4,
    rows: V,
    site: 0,
  });
  await gpu.sync();
});
Deno.bench(`fill[V=${V},C=${C}]`, opts, async () => {
  dispatch(fill, { out: dweight }, { n: V * C, value: 0 });
  await gpu.sync();
});
Deno.bench(`scatter_add (sort + segment sums)${fwd}`, opts, async () => {
  const scope = beginScope(gpu);
  scatterAddRows(dout, ids, [V, C]);
  await gpu.sync();
  scope.end();
});
