import assert from "node:assert/strict";
import { castF32ToF16Ref } from "./cast.ts";
import { matmulRef } from "./matmul_ref.ts";
import { matmulNnF16, matmulNtF16, matmulTnF16 } from "./matmul_f16.ts";
import { matmulNn, matmulNt, matmulTn } from "./matmul.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gemm, type GemmSpec } from "../lib/ops/gemm.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { Rng } from "../tests/_util/rng.ts";

/**
 * f32 accumulation of k products (as in `matmul_test.ts`): 8·2⁻²⁴·k·scale. Against the
 * reference computed from the same f16-rounded operands, this is the whole error budget.
 */
const accTol = (k: number, scale = 1) => ({
  atol: Math.max(1, k) * 8 * 2 ** -24 * scale,
  rtol: 1e-5,
});

const abs = (a: Float64Array) => a.map(Math.abs);
const f32 = (a: Float64Array) => a.map(Math.fround);

interface Case {
  label: string;
  a: number[];
  b: number[];
  spec: Omit<GemmSpec, "shape">;
  bias?: number;
}

const CASES: Case[] = [
  { label: "NN with edges", a: [13, 68], b: [68, 772], spec: { batch: 1, m: 13, n: 772, k: 68 } },
  {
    label: "NN batched, many workgroups",
    a: [3, 200, 128],
    b: [3, 128, 300],
    spec: { batch: 3, m: 200, n: 300, k: 128, alpha: 0.5 },
  },
  {
    label: "NT with N=769 and bias",
    a: [13, 68],
    b: [769, 68],
    spec: { batch: 1, m: 13, n: 769, k: 68, transB: true },
    bias: 769,
  },
  {
    label: "NT shared b",
    a: [2, 13, 64],
    b: [36, 64],
    spec: { batch: 2, m: 13, n: 36, k: 64, transB: true, bBatched: false },
  },
  {
    label: "TN with odd K",
    a: [65, 20],
    b: [65, 772],
    spec: { batch: 1, m: 20, n: 772, k: 65, transA: true },
  },
  {
    label: "NN narrow (16×8 blocks), N=60",
    a: [37, 68],
    b: [68, 60],
    spec: { batch: 1, m: 37, n: 60, k: 68 },
  },
  {
    label: "TN narrow, N=44",
    a: [33, 28],
    b: [33, 44],
    spec: { batch: 1, m: 28, n: 44, k: 33, transA: true },
  },
  {
    label: "strided fallback (K = 13)",
    a: [13, 13],
    b: [13, 64],
    spec: { batch: 1, m: 13, n: 64, k: 13 },
  },
];

for (const cs of CASES) {
  gpuTest(`gemm() with f16 operands matches float64 reference: ${cs.label}`, async (gpu) => {
    const seed = 31, rng = new Rng(seed);
    const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
    // f32 inputs, as the cast kernel sees them (f64 → f16 directly could round differently).
    const a = f32(rng.array(size(cs.a))), b = f32(rng.array(size(cs.b)));
    const bias = cs.bias ? Float64Array.from(rng.array(cs.bias), Math.fround) : undefined;
    const { batch, m, n } = cs.spec;
    const spec = { ...cs.spec, shape: [batch * m, n] };
    const ta = fromArray(gpu, a, cs.a, { dtype: "f16" });
    const tb = fromArray(gpu, b, cs.b, { dtype: "f16" });
    const tBias = bias ? fromArray(gpu, bias, [bias.length]) : undefined;
    const c = gemm({ a: ta, b: tb }, { ...spec, bias: tBias });
    assert.equal(c.dtype, "f32");
    const got = await c.read();
    const dims = { ...cs.spec, bBatched: cs.spec.bBatched ?? true };
    const addBias = (x: Float64Array) => bias ? x.map((v, i) => v + bias[i % n]) : x;
    // (1) Against the same f16-rounded operands: only f32 accumulation error remains.
    const a16 = castF32ToF16Ref(a), b16 = castF32ToF16Ref(b);
    const scale = Math.abs(cs.spec.alpha ?? 1);
    assertAllClose(got, addBias(matmulRef({ a: a16, b: b16 }, dims)), {
      ...accTol(cs.spec.k, scale),
      seed,
      label: "vs rounded operands",
    });
    // (2) Against the exact operands: each product a·b is off by at most (1 + 2⁻¹¹)² − 1 <
    // 1.01·2⁻¹⁰ relative (f16's unit roundoff is 2⁻¹¹), so |c − ref| ≤ 1.01·2⁻¹⁰·Σ|a||b|,
    // plus subnormal rounding (≤ 2⁻²⁵ absolute per operand, times |other| ≤ 1) and accumulation.
    const ref = addBias(matmulRef({ a, b }, dims));
    const bound = matmulRef({ a: abs(a), b: abs(b) }, dims);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) {
      const allowed = scale * (1.01 * 2 ** -10 * bound[i] + cs.spec.k * 2 ** -24) +
        accTol(cs.spec.k, scale).atol + 1e-5 * Math.abs(ref[i]);
      const err = Math.abs(got[i] - ref[i]);
      assert.ok(err <= allowed, `[${i}] error ${err} > ${allowed} (seed ${seed})`);
      worst = Math.max(worst, err);
    }
    // The f16 rounding must be visible: a kernel that read f32 would sit near 1e-7.
    assert.ok(worst > 1e-5, `max error ${worst} is too small for f16 operands`);
  });
}

gpuTest("gemm() with f16 operands at BERT-base size 128×768×3072 (NT)", async (gpu) => {
  const seed = 7, rng = new Rng(seed);
  const m = 128, k = 768, n = 3072;
  const a = f32(rng.array(m * k)), b = f32(rng.array(n * k));
  const c = gemm({
    a: fromArray(gpu, a, [m, k], { dtype: "f16" }),
    b: fromArray(gpu, b, [n, k], { dtype: "f16" }),
  }, { batch: 1, m, n, k, transB: true, shape: [m, n] });
  const ref = matmulRef({ a: castF32ToF16Ref(a), b: castF32ToF16Ref(b) }, {
    batch: 1,
    m,
    n,
    k,
    transB: true,
  });
  assertAllClose(await c.read(), ref, { ...accTol(k), seed, label: "NT f16" });
});

Deno.test("f16 matmul kernels share their f32 twins' bindings, uniforms and tiling", () => {
  for (
    const [h, f] of [[matmulNnF16, matmulNn], [matmulNtF16, matmulNt], [matmulTnF16, matmulTn]]
  ) {
    assert.deepEqual(h.uniformNames, f.uniformNames);
    assert.deepEqual(h.bindingNames, f.bindingNames);
    assert.deepEqual(h.overrides, f.overrides);
    assert.match(h.source, /^enable f16;/);
    assert.match(h.source, /array<vec4<f16>>/);
    // Every operand load is widened; no bare a[...] or b[...] remains.
    const body = h.source.split("\n").slice(h.headerLines).join("\n");
    assert.doesNotMatch(body.replaceAll(/vec4f\([ab]\[[^\]]+\]\)/g, ""), /(?<![\w.])[ab]\[/);
  }
});
