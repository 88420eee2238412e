/**
 * Casts between f32 and f16 storage, for `--fp16` (mixed precision): the f32 activations,
 * weights and gradients that feed a matmul are rounded to f16 on the way in.
 *
 * Formula: `out[i] = f16(inp[i])`, rounding to nearest even (IEEE 754 `roundTiesToEven`, what
 * PyTorch's `.half()` does), with every |x| ≥ 65520 (which rounds past the largest f16, 65504)
 * becoming ±inf and NaN staying NaN. Those two cases are written as explicit bit patterns, because
 * WGSL leaves an out-of-range conversion's value indeterminate, and the dynamic loss scaler
 * (`lib/optim/grad_scaler.ts`) relies on an overflow showing up as inf. `f16 → f32` is exact.
 *
 * f16 is stored two to a `u32` word (element 2i in the low half, as little-endian memory and
 * `Float16Array` lay them out) and converted with WGSL's core `pack2x16float` /
 * `unpack2x16float`, so each invocation writes whole words, any `n` is valid (the last word of
 * an odd-sized tensor carries a zero in its high half), and the casts need no `enable f16`.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `cast_f32_to_f16` | inp `[n]` f32 → out `[⌈n/2⌉]` u32 (f16 pairs) | out |
 * | `cast_f16_to_f32` | inp `[⌈n/2⌉]` u32 (f16 pairs) → out `[n]` f32 | out |
 *
 * See https://www.w3.org/TR/WGSL/#floating-point-conversion and
 * https://pytorch.org/docs/stable/amp.html.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** The largest finite f16. */
export const F16_MAX = 65504;

// Bits of f16(x) in the low 16 bits, with overflow to ±inf and NaN made explicit.
const TO_F16_BITS = /* wgsl */ `
fn to_f16_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let mag = bits & 0x7fffffffu;
  if (mag > 0x7f800000u) { return 0x7e00u; } // NaN
  if (mag >= 0x477ff000u) { return ((bits >> 16u) & 0x8000u) | 0x7c00u; } // |x| ≥ 65520: ±inf
  return pack2x16float(vec2f(x, 0.0)) & 0xffffu;
}
`;

/** `out = f16(inp)` for `n` elements, packed two to a word. */
export const castF32ToF16 = defineKernel({
  name: "cast_f32_to_f16",
  bindings: { inp: "read", out: { access: "write", type: "u32" } },
  uniforms: { n: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(Math.ceil(n / 2), WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${TO_F16_BITS}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = flat_index(gid, nwg);
  if (2u * w >= u.n) { return; }
  let lo = to_f16_bits(inp[2u * w]);
  var hi = 0u;
  if (2u * w + 1u < u.n) { hi = to_f16_bits(inp[2u * w + 1u]); }
  out[w] = lo | (hi << 16u);
}`,
});

/** `out = f32(inp)` for `n` f16 elements packed two to a word. */
export const castF16ToF32 = defineKernel({
  name: "cast_f16_to_f32",
  bindings: { inp: { access: "read", type: "u32" }, out: "write" },
  uniforms: { n: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let pair = unpack2x16float(inp[i / 2u]);
  out[i] = select(pair.x, pair.y, i % 2u == 1u);
}`,
});

/** Reference: each value rounded to the nearest f16 (ties to even), overflow to ±inf. */
export function castF32ToF16Ref(inp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) out[i] = Math.f16round(Math.fround(inp[i]));
  return out;
}

/** Work of a cast of `n` elements: no flops; 4 + 2 bytes an element. */
export function castCost({ n }: { n: number }): KernelCost {
  return { flops: 0, bytes: 6 * n };
}
