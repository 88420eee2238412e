import assert from "node:assert/strict";
import { matmulBackwardRef, type MatmulDims, matmulRef } from "./matmul_ref.ts";
import { gemmKernel, lanesNt } from "../lib/gpu/kernel_choice.ts";
import { gemm } from "../lib/ops/gemm.ts";
import { matmul } from "../lib/ops/matmul.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

/**
 * Tolerance for an f32 dot product of length `k` over inputs in [-1, 1] times `scale`. Each
 * product is exact to ε = 2⁻²⁴ relative; the running sum adds one rounding of at most ε·|partial
 * sum| per term. Partial sums of these zero-mean terms stay near √k/3·scale, so the total error
 * is about ε·k/4·scale in the mean and below ε·k·scale even in the worst outputs we see; we
 * allow 8·ε·k·scale (3.7e-4 at k = 768, 1.5e-3 at k = 3072). A wrong index or a missing term
 * is off by O(scale) and still fails. rtol covers the final rounding of large outputs.
 */
function tol(k: number, scale = 1): { atol: number; rtol: number } {
  return { atol: Math.max(1, k) * 8 * 2 ** -24 * scale, rtol: 1e-5 };
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

interface Case {
  label: string;
  a: number[];
  b: number[];
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
}

const CASES: Case[] = [
  { label: "NN with edges (vec4 kernel)", a: [13, 68], b: [68, 772] },
  { label: "NN at 13×769×65 (strided kernel)", a: [13, 65], b: [65, 769] },
  { label: "NN spanning many workgroups", a: [200, 128], b: [128, 300], alpha: 0.5 },
  { label: "NN narrow (16×8 blocks) with edges, N=60", a: [37, 68], b: [68, 60] },
  { label: "TN narrow with edges, N=44, M=28", a: [33, 28], b: [33, 44], transA: true },
  {
    label: "attention context [2, 4, 128, 128]·[2, 4, 128, 64] (narrow)",
    a: [2, 4, 128, 128],
    b: [2, 4, 128, 64],
  },
  { label: "NT with N=769", a: [13, 68], b: [769, 68], transB: true },
  { label: "NT at 13×769×65", a: [13, 65], b: [769, 65], transB: true },
  { label: "TN with edges", a: [68, 20], b: [68, 772], transA: true },
  { label: "TN with odd K", a: [65, 20], b: [65, 36], transA: true },
  { label: "TN at 13×769×65", a: [65, 13], b: [65, 769], transA: true },
  { label: "TT", a: [68, 13], b: [769, 68], transA: true, transB: true },
  { label: "1×1×1", a: [1, 1], b: [1, 1], alpha: -2 },
  {
    label: "attention scores [2, 3, 13, 64]·kᵀ/8",
    a: [2, 3, 13, 64],
    b: [2, 3, 13, 64],
    transB: true,
    alpha: 0.125,
  },
  {
    label: "NT lanes kernel with edges: [5, 37, 32]·[5, 29, 32]ᵀ",
    a: [5, 37, 32],
    b: [5, 29, 32],
    transB: true,
    alpha: -0.5,
  },
  { label: "NT lanes kernel, k = 4, N = 64", a: [3, 33, 4], b: [3, 64, 4], transB: true },
  {
    label: "attention context [2, 3, 20, 20]·[2, 3, 20, 64]",
    a: [2, 3, 20, 20],
    b: [2, 3, 20, 64],
  },
  { label: "shared 2-D b, folded into rows", a: [2, 13, 68], b: [68, 36] },
  { label: "shared 2-D b with transB", a: [3, 13, 68], b: [36, 68], transB: true },
  { label: "shared 2-D b with transA", a: [2, 68, 12], b: [68, 36], transA: true },
  {
    label: "shared 2-D b with transA and transB",
    a: [2, 5, 7],
    b: [9, 5],
    transA: true,
    transB: true,
  },
];

function dimsOf({ a, b, transA = false, transB = false, alpha = 1 }: Case): MatmulDims {
  const ra = a.length, rb = b.length;
  const [m, k] = transA ? [a[ra - 1], a[ra - 2]] : [a[ra - 2], a[ra - 1]];
  const n = transB ? b[rb - 2] : b[rb - 1];
  const batch = a.slice(0, -2).reduce((p, d) => p * d, 1);
  return { batch, m, n, k, transA, transB, alpha, bBatched: rb === ra };
}

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

for (const cs of CASES) {
  gpuTest(`matmul() forward and backward match float64 reference: ${cs.label}`, async (gpu) => {
    const seed = 21;
    const rng = new Rng(seed);
    const dims = dimsOf(cs);
    const a = f32(rng.array(size(cs.a))), b = f32(rng.array(size(cs.b)));
    const ta = fromArray(gpu, a, cs.a), tb = fromArray(gpu, b, cs.b);
    ta.requiresGrad = tb.requiresGrad = true;
    const out = matmul({ a: ta, b: tb }, cs);
    assert.deepEqual(out.shape, [...cs.a.slice(0, -2), dims.m, dims.n]);
    const scale = Math.abs(dims.alpha ?? 1);
    assertAllClose(await out.read(), matmulRef({ a, b }, dims), {
      ...tol(dims.k, scale),
      seed,
      label: "c",
    });

    const dc = f32(rng.array(out.size));
    backward(out, fromArray(gpu, dc, out.shape));
    const ref = matmulBackwardRef({ a, b, dc }, dims);
    // da contracts over N; db over M (and the batch, when b is shared).
    const kb = dims.m * (dims.bBatched ? 1 : dims.batch);
    assertAllClose(await ta.grad!.read(), ref.da, { ...tol(dims.n, scale), seed, label: "da" });
    assertAllClose(await tb.grad!.read(), ref.db, { ...tol(kb, scale), seed, label: "db" });
    ta.grad!.dispose();
    tb.grad!.dispose();
  });
}

gpuTest("matmul() is correct at 256×768×3072 (NN and NT)", async (gpu) => {
  const seed = 3, rng = new Rng(seed);
  const m = 256, k = 768, n = 3072;
  const a = f32(rng.array(m * k)), b = f32(rng.array(k * n));
  const ta = fromArray(gpu, a, [m, k]);
  const nn = matmul({ a: ta, b: fromArray(gpu, b, [k, n]) });
  const ref = matmulRef({ a, b }, { batch: 1, m, n, k });
  assertAllClose(await nn.read(), ref, { ...tol(k), seed, label: "NN" });
  // The same product with b stored transposed, as linear's weight is.
  const bt = new Float64Array(k * n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
  const nt = matmul({ a: ta, b: fromArray(gpu, bt, [n, k]) }, { transB: true });
  assertAllClose(await nt.read(), ref, { ...tol(k), seed, label: "NT" });
});

gpuTest("matmul() splits a batch above 65535 over several dispatches", async (gpu) => {
  const seed = 5, rng = new Rng(seed);
  const batch = 65537, k = 4;
  const a = f32(rng.array(batch * k)), b = f32(rng.array(batch * k));
  const ta = fromArray(gpu, a, [batch, 1, k]), tb = fromArray(gpu, b, [batch, 1, k]);
  const dims = { batch, m: 1, n: 1, k };
  const ref = matmulRef({ a, b }, { ...dims, transB: true });
  // The same rows as [1, K]·[1, K]ᵀ (matmul_nt) and as [1, K]·[K, 1] (matmul_strided).
  const nt = matmul({ a: ta, b: tb }, { transB: true });
  assertAllClose(await nt.read(), ref, { ...tol(k), seed, label: "nt" });
  const strided = matmul({ a: ta, b: fromArray(gpu, b, [batch, k, 1]) });
  assertAllClose(await strided.read(), ref, { ...tol(k), seed, label: "strided" });
});

gpuTest("matmul() keeps relative accuracy for huge and tiny magnitudes", async (gpu) => {
  const seed = 8, rng = new Rng(seed);
  const m = 20, k = 64, n = 36;
  for (const s of [1e17, 1e-17]) {
    // Products reach 1e34 (near the f32 limit of 3.4e38) or 1e-34 (still normal in f32).
    const a = f32(rng.array(m * k).map((v) => v * s)), b = f32(rng.array(k * n).map((v) => v * s));
    const c = matmul({ a: fromArray(gpu, a, [m, k]), b: fromArray(gpu, b, [k, n]) });
    const got = await c.read();
    assert.ok(got.every(Number.isFinite), `non-finite output at scale ${s}`);
    assertAllClose(got, matmulRef({ a, b }, { batch: 1, m, n, k }), {
      ...tol(k, s * s),
      seed,
      label: `scale ${s}`,
    });
  }
});

gpuTest("matmul() rejects mismatched shapes and i32 inputs with a TypeError", (gpu) => {
  const t = (shape: number[], dtype: "f32" | "i32" = "f32") =>
    fromArray(gpu, new Float64Array(size(shape)), shape, { dtype });
  const check = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e) => e instanceof TypeError && re.test(e.message));
  check(
    () => matmul({ a: t([8, 768]), b: t([512, 3072]) }),
    /^Cannot run "matmul": inner dimensions differ: a is \[8, 768\], b is \[512, 3072\]$/,
  );
  check(() => matmul({ a: t([8, 768]), b: t([768, 3072]) }, { transB: true }), /transB/);
  check(() => matmul({ a: t([2, 4, 5]), b: t([3, 5, 6]) }), /batch dimensions differ/);
  check(() => matmul({ a: t([4, 5]), b: t([2, 5, 6]) }), /batch dimensions differ/);
  check(() => matmul({ a: t([5]), b: t([5, 6]) }), /"a" is \[5\], expected at least 2 dims/);
  check(() => matmul({ a: t([4, 5], "i32"), b: t([5, 6]) }), /"a" is i32, expected f32/);
  check(() => matmul({ a: t([4, 5]), b: t([5, 6], "i32") }), /"b" is i32, expected f32/);
});

Deno.test("gemmKernel() picks the vec4 kernel of each layout when sizes allow it", () => {
  const base = { m: 13, n: 772, k: 68 };
  assert.equal(gemmKernel(base), "matmul_nn");
  assert.equal(gemmKernel({ ...base, transB: true }), "matmul_nt");
  assert.equal(gemmKernel({ ...base, m: 20, transA: true }), "matmul_tn");
  assert.equal(gemmKernel({ ...base, transA: true, transB: true }), "matmul_strided");
  // The vec4 dimension of each layout must be a multiple of 4.
  assert.equal(gemmKernel({ ...base, k: 65 }), "matmul_strided");
  assert.equal(gemmKernel({ ...base, n: 769 }), "matmul_strided");
  assert.equal(gemmKernel({ ...base, n: 769, transB: true }), "matmul_nt");
  assert.equal(gemmKernel({ ...base, k: 65, transB: true }), "matmul_strided");
  assert.equal(gemmKernel({ ...base, k: 65, m: 20, transA: true }), "matmul_tn");
  assert.equal(gemmKernel({ ...base, transA: true }), "matmul_strided"); // M = 13
  assert.equal(gemmKernel({ ...base, k: 0 }), "matmul_strided");
});

gpuTest(
  "short-contraction a · bᵀ products run on the lanes kernel, others on matmul_nt",
  async (gpu) => {
    assert.ok(lanesNt(29, 32) && lanesNt(64, 4));
    assert.ok(!lanesNt(128, 64) && !lanesNt(29, 128) && !lanesNt(29, 30));
    if (!gpu.hasTimestamps) return;
    const rng = new Rng(2);
    const t = (shape: number[]) => fromArray(gpu, rng.array(size(shape)), shape);
    gpu.recorder.startProfile();
    matmul({ a: t([5, 37, 32]), b: t([5, 29, 32]) }, { transB: true });
    matmul({ a: t([2, 37, 32]), b: t([2, 65, 32]) }, { transB: true });
    const names = (await gpu.recorder.stopProfile()).map((p) => p.name);
    assert.deepEqual(names, ["matmul_nt_lanes_k32", "matmul_nt"]);
  },
);

Deno.test("matmul reference backward passes gradcheck for every layout and a shared b", () => {
  const rng = new Rng(9);
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const bBatched of [true, false]) {
        const dims: MatmulDims = {
          batch: 2,
          m: 3,
          n: 4,
          k: 5,
          transA,
          transB,
          alpha: 0.7,
          bBatched,
        };
        const nb = (bBatched ? 2 : 1) * dims.k * dims.n;
        gradcheck(
          ([a, b]) => matmulRef({ a, b }, dims),
          ([a, b], dc) => {
            const { da, db } = matmulBackwardRef({ a, b, dc }, dims);
            return [da, db];
          },
          [rng.array(2 * dims.m * dims.k), rng.array(nb)],
          { label: `transA=${transA} transB=${transB} bBatched=${bBatched}` },
        );
      }
    }
  }
});

gpuTest("gemm() columnSums: matmul_tn also sums the columns of each a [K, M]", async (gpu) => {
  const rng = new Rng(12);
  for (const [batch, k, m, n] of [[2, 33, 44, 68], [3, 9, 20, 40]]) {
    const a = rng.array(batch * k * m), b = rng.array(batch * k * n);
    const ta = fromArray(gpu, a, [batch, k, m]), tb = fromArray(gpu, b, [batch, k, n]);
    const sums = fromArray(gpu, new Float64Array(batch * m), [batch, m]);
    const dims = { batch, m, n, k, transA: true };
    const c = gemm({ a: ta, b: tb }, { ...dims, columnSums: sums, shape: [batch, m, n] });
    assertAllClose(await c.read(), matmulRef({ a, b }, { ...dims, alpha: 1 }), { atol: 1e-5 });
    const ref = new Float64Array(batch * m);
    for (let z = 0; z < batch; z++) {
      for (let r = 0; r < k; r++) {
        for (let j = 0; j < m; j++) ref[z * m + j] += a[(z * k + r) * m + j];
      }
    }
    assertAllClose(await sums.read(), ref, {
      atol: 1e-5,
      rtol: 1e-5,
      label: `[${batch}, ${k}, ${m}]`,
    });
  }
  const t = fromArray(gpu, new Float64Array(16), [4, 4]);
  assert.throws(
    () => gemm({ a: t, b: t }, { batch: 1, m: 4, n: 4, k: 4, columnSums: t, shape: [4, 4] }),
    /columnSums needs the matmul_tn layout, not matmul_nn/,
  );
});
