/**
 * Inverted dropout (PyTorch's `nn.Dropout`,
 * https://pytorch.org/docs/stable/generated/torch.nn.Dropout.html): each element is kept with
 * probability 1 − p and scaled by 1/(1 − p), or zeroed.
 *
 *   out[i] = keep(i) ? inp[i] / (1 − p) : 0,   keep(i) = uniform24(i, seed, offset) ≥ p·2²⁴
 *
 * The keep decision is a hash of (element index, seed, offset) (`_rng.ts`), so it needs no
 * stored state: the backward applies the same kernel to dy, which recomputes the same mask.
 * Give each dropout site and step its own `offset` (or seed) so that their masks differ.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `dropout_forward`, `dropout_forward_vec4` | inp → out | out = inp · mask · scale (also the backward, on dy) |
 *
 * 1-D over n elements (`grid1d`); overwrites its output.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { HASH_RNG, uniform24Ref } from "./_rng.ts";

/** Resolution of the keep threshold: p is rounded to a multiple of 2⁻²⁴. */
const LEVELS = 1 << 24;

/**
 * `out = keep ? inp · scale : 0` with keep = `uniform24(i, seed, offset) ≥ threshold`, over `n`
 * f32 elements (`dropout_forward`) or `n` vec4s (`dropout_forward_vec4`, for sizes that are
 * multiples of 4: element 4j + c hashes its own index, so the mask is the same). The backward is
 * the same dispatch on dy.
 */
function dropoutKernel(width: 1 | 4) {
  const type = width === 4 ? "vec4<f32>" : "f32";
  const body = width === 4
    ? /* wgsl */ `let e = 4u * i;
  let keep = vec4<bool>(
    uniform24(e, u.seed, u.offset) >= u.threshold,
    uniform24(e + 1u, u.seed, u.offset) >= u.threshold,
    uniform24(e + 2u, u.seed, u.offset) >= u.threshold,
    uniform24(e + 3u, u.seed, u.offset) >= u.threshold,
  );
  out[i] = select(vec4f(), inp[i] * u.scale, keep);`
    : /* wgsl */ `let keep = uniform24(i, u.seed, u.offset) >= u.threshold;
  out[i] = select(0.0, inp[i] * u.scale, keep);`;
  return defineKernel({
    name: width === 4 ? "dropout_forward_vec4" : "dropout_forward",
    bindings: { inp: { access: "read", type }, out: { access: "write", type } },
    uniforms: { n: "u32", seed: "u32", offset: "u32", threshold: "u32", scale: "f32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}${HASH_RNG}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  ${body}
}`,
  });
}

/** Dropout over `n` f32 elements (also its own backward, on dy). */
export const dropoutForward = dropoutKernel(1);
/** Dropout over `n` vec4s, with the mask `dropout_forward` would draw. */
export const dropoutForwardVec4 = dropoutKernel(4);

/** Dropout's random stream: probability, seed and offset. */
export interface DropoutParams {
  /** Probability of zeroing an element, 0 ≤ p ≤ 1. */
  p: number;
  /** 32-bit seed of the run. */
  seed: number;
  /** 32-bit stream number: one per dropout site and step. Default 0. */
  offset?: number;
}

/** The kernel uniforms for `p`: the integer keep threshold and the f32 scale 1/(1 − p). */
export function dropoutUniforms(p: number): { threshold: number; scale: number } {
  return { threshold: Math.round(p * LEVELS), scale: p >= 1 ? 0 : 1 / (1 - p) };
}

// ---- float64 references -------------------------------------------------------------------

/** Reference keep mask: 1 where element i of `n` is kept. */
export function dropoutMaskRef(n: number, { p, seed, offset = 0 }: DropoutParams): Uint8Array {
  const { threshold } = dropoutUniforms(p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = uniform24Ref(i, seed, offset) >= threshold ? 1 : 0;
  return mask;
}

/** Reference forward (and backward, on dy): `inp · mask / (1 − p)`. */
export function dropoutForwardRef(inp: Float64Array, params: DropoutParams): Float64Array {
  const mask = dropoutMaskRef(inp.length, params);
  const { scale } = dropoutUniforms(params.p);
  return inp.map((v, i) => mask[i] ? v * scale : 0);
}

// ---- costs -----------------------------------------------------------------------------------

/** Cost over `n` elements: one read, one write, ~20 integer ops for the hash. */
export function dropoutCost({ n }: { n: number }): KernelCost {
  return { flops: 2 * n, bytes: 8 * n };
}
