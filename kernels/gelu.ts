/**
 * Exact (erf) GELU, as BERT's `hidden_act: "gelu"` and PyTorch's `F.gelu`
 * (https://pytorch.org/docs/stable/generated/torch.nn.GELU.html):
 *
 *   gelu(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)),   gelu'(x) = Φ(x) + x·φ(x)
 *
 * with Φ the standard normal CDF and φ its density. Φ(x) is computed as ½·erfc(−x/√2) so that
 * the left tail keeps its relative precision (1 + erf(x/√2) cancels there). At ±300 the result
 * is exactly x or 0, and the derivative exactly 1 or 0, with no NaN.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `gelu_forward` | inp → out | out = gelu(inp) |
 * | `gelu_backward` | inp, dout → dinp | dinp = dout · gelu'(inp) |
 *
 * Both are 1-D over n elements (`grid1d`) and overwrite their outputs.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { ERF_FN, FLAT_INDEX } from "./_wgsl.ts";

/** WGSL `normal_cdf(x)`, `gelu(x)` and `gelu_grad(x)` (needs `ERF_FN` before it). */
export const GELU_FN = /* wgsl */ `
fn normal_cdf(x: f32) -> f32 {
  return 0.5 * erfc_approx(-0.70710678118654752 * x);
}

fn gelu(x: f32) -> f32 {
  return x * normal_cdf(x);
}

fn gelu_grad(x: f32) -> f32 {
  // exp(-x²/2) underflows to 0 for |x| > 14, so x·φ(x) is 0 there, not inf·0.
  return normal_cdf(x) + x * (0.39894228040143268 * exp(-0.5 * x * x));
}
`;

const GELU4_FN = /* wgsl */ `
fn gelu4(x: vec4f) -> vec4f {
  return vec4f(gelu(x.x), gelu(x.y), gelu(x.z), gelu(x.w));
}

fn gelu_grad4(x: vec4f) -> vec4f {
  return vec4f(gelu_grad(x.x), gelu_grad(x.y), gelu_grad(x.z), gelu_grad(x.w));
}
`;

/**
 * The forward and backward kernels over `n` elements of one width: f32 (`gelu_forward`,
 * `gelu_backward`) or vec4 (`…_vec4`, for sizes that are multiples of 4; `n` then counts vec4s).
 */
function geluKernels(width: 1 | 4) {
  const type = width === 4 ? "vec4<f32>" : "f32";
  const read = { access: "read", type } as const, write = { access: "write", type } as const;
  const suffix = width === 4 ? "_vec4" : "", fn = width === 4 ? "4" : "";
  const head = /* wgsl */ `${FLAT_INDEX}${ERF_FN}${GELU_FN}${width === 4 ? GELU4_FN : ""}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }`;
  const common = {
    uniforms: { n: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }: { n: number }, { WG }: { WG: number }) => grid1d(n, WG),
  } as const;
  return {
    width,
    /** `out = gelu(inp)`. */
    forward: defineKernel({
      ...common,
      name: `gelu_forward${suffix}`,
      bindings: { inp: read, out: write },
      wgsl: `${head}\n  out[i] = gelu${fn}(inp[i]);\n}`,
    }),
    /** `dinp = dout · gelu'(inp)`. */
    backward: defineKernel({
      ...common,
      name: `gelu_backward${suffix}`,
      bindings: { inp: read, dout: read, dinp: write },
      wgsl: `${head}\n  dinp[i] = dout[i] * gelu_grad${fn}(inp[i]);\n}`,
    }),
  };
}

/** The f32 kernels: `gelu_forward` and `gelu_backward` over `n` elements. */
export const GELU = geluKernels(1);
/** The vec4 kernels, for tensors whose size is a multiple of 4 (`n` = size / 4). */
export const GELU_VEC4 = geluKernels(4);

// ---- float64 references -------------------------------------------------------------------

/**
 * erfc(x) in float64 to about 1e-13 relative: for 0 ≤ x < 2.5 the all-positive series
 * erf(x) = 2/√π · e^(−x²) · Σ 2ⁿx^(2n+1) / (1·3···(2n+1)) (Abramowitz and Stegun 7.1.6), above
 * it the continued fraction 7.1.14, evaluated bottom-up; erfc(−x) = 2 − erfc(x).
 */
export function erfcRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfcRef(-x);
  if (x < 2.5) {
    let term = x, sum = x;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= 2 * x * x / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  let f = x;
  for (let n = 80; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Φ(x), the standard normal CDF, in float64. */
export function normalCdfRef(x: number): number {
  return 0.5 * erfcRef(-x / Math.SQRT2);
}

/** Reference forward: x·Φ(x) elementwise. */
export function geluForwardRef(inp: Float64Array): Float64Array {
  return inp.map((x) => x * normalCdfRef(x));
}

/** Reference backward: dout·(Φ(x) + x·φ(x)) elementwise. */
export function geluBackwardRef(inp: Float64Array, dout: Float64Array): Float64Array {
  return inp.map((x, i) =>
    dout[i] * (normalCdfRef(x) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI))
  );
}

// ---- costs -----------------------------------------------------------------------------------

/** Forward cost over `n` elements: one read, one write, ~25 flops for erfc and the product. */
export function geluForwardCost({ n }: { n: number }): KernelCost {
  return { flops: 25 * n, bytes: 8 * n };
}

/** Backward cost over `n` elements: two reads, one write. */
export function geluBackwardCost({ n }: { n: number }): KernelCost {
  return { flops: 32 * n, bytes: 12 * n };
}
