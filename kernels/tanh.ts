/**
 * Hyperbolic tangent, the activation of BERT's pooler (docs/model.md §8.1):
 *
 *   y = tanh(x),   dx = dy · (1 − y²)
 *
 * WGSL's builtin `tanh` may be lowered to (e^2x − 1)/(e^2x + 1), which gives inf/inf = NaN for
 * large |x| on some drivers, so `tanh_safe` never lets exp overflow into a division: for
 * |x| ≥ 0.3 it is sign(x)·(1 − 2/(e^2|x| + 1)), which tends to ±1 exactly (2/inf = 0); below 0.3
 * an odd Taylor polynomial to x⁹ (error under 6e-8 relative) avoids the cancellation of 1 − 2/(…).
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `tanh_forward` | inp → out | out = tanh(inp) |
 * | `tanh_backward` | out, dout → dinp | dinp = dout · (1 − out²), from the saved output |
 *
 * Both are 1-D over n elements (`grid1d`) and overwrite their outputs.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** WGSL `tanh_safe(x)`: tanh without overflow to NaN for large |x|. */
export const TANH_FN = /* wgsl */ `
fn tanh_safe(x: f32) -> f32 {
  let a = abs(x);
  let x2 = x * x;
  // tanh x = x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − …
  let small = x * (1.0 + x2 * (-0.33333333333333333 + x2 * (0.13333333333333333 +
    x2 * (-0.053968253968253968 + x2 * 0.021869488536155203))));
  let large = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
  return select(sign(x) * large, small, a < 0.3);
}
`;

/** `out = tanh(inp)` over `n` elements. */
export const tanhForward = defineKernel({
  name: "tanh_forward",
  bindings: { inp: "read", out: "write" },
  uniforms: { n: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${TANH_FN}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  out[i] = tanh_safe(inp[i]);
}`,
});

/** `dinp = dout · (1 − out²)` over `n` elements, from the forward's output. */
export const tanhBackward = defineKernel({
  name: "tanh_backward",
  bindings: { out: "read", dout: "read", dinp: "write" },
  uniforms: { n: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let y = out[i];
  dinp[i] = dout[i] * (1.0 - y * y);
}`,
});

// ---- float64 references -------------------------------------------------------------------

/** Reference forward: `Math.tanh` elementwise. */
export function tanhForwardRef(inp: Float64Array): Float64Array {
  return inp.map(Math.tanh);
}

/** Reference backward from the input: dout·(1 − tanh(x)²). */
export function tanhBackwardRef(inp: Float64Array, dout: Float64Array): Float64Array {
  return inp.map((x, i) => dout[i] * (1 - Math.tanh(x) ** 2));
}

// ---- costs -----------------------------------------------------------------------------------

/** Forward cost over `n` elements. */
export function tanhForwardCost({ n }: { n: number }): KernelCost {
  return { flops: 12 * n, bytes: 8 * n };
}

/** Backward cost over `n` elements. */
export function tanhBackwardCost({ n }: { n: number }): KernelCost {
  return { flops: 3 * n, bytes: 12 * n };
}
