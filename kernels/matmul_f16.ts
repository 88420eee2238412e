/**
 * The tiled matmul kernels of `matmul.ts` with f16 operands: `c = alpha · op(a) · op(b)`, where
 * `a` and `b` are stored as f16 and read as `vec4<f16>`, each loaded vector is widened to f32,
 * and products are accumulated and stored in f32 (`bias`, when used, is f32). This is the
 * "f16 storage, f32 accumulation" of mixed-precision training (apex AMP O1, `torch.autocast`):
 * rounding happens once, when the operands are cast to f16; the sums carry f32 precision.
 *
 * | kernel | a (f16) | b (f16) | c (f32) | needs |
 * |---|---|---|---|---|
 * | `matmul_nn_f16` | `[M, K]` | `[K, N]` | `[M, N]` | K % 4 = 0, N % 4 = 0 |
 * | `matmul_nt_f16` | `[M, K]` | `[N, K]` | `[M, N]` (+ `bias[N]`) | K % 4 = 0 |
 * | `matmul_tn_f16` | `[K, M]` | `[K, N]` | `[M, N]` | M % 4 = 0, N % 4 = 0 |
 *
 * Uniforms, batch strides (in elements of the binding: `vec4<f16>` for `a`, `b`), edges and the
 * `WX × WY` overrides are those of the f32 kernels. So that one tiling (the 16×16 register tile
 * measured fastest on lavapipe) has one source, each kernel here is generated from its f32
 * twin's WGSL body: the only textual change is that every load `a[i]` or `b[i]` becomes
 * `vec4f(a[i])`. A load the rewrite missed would be a `vec4<f16>` where the body expects
 * `vec4f`, which WGSL rejects at compile time, so a change to the f32 body cannot silently
 * produce a half-precision accumulation here.
 *
 * @module
 */

import {
  type BindingSpec,
  defineKernel,
  type Kernel,
  type KernelCost,
  type UniformType,
} from "./kernel.ts";
import { matmulNn, matmulNnNarrow, matmulNt, matmulTn, matmulTnNarrow } from "./matmul.ts";

const VEC4_F16 = { access: "read", type: "vec4<f16>" } as const;

/** The f32 kernel's body (its source without the generated header), loads of a, b widened. */
function widenedBody(kernel: { source: string; headerLines: number }): string {
  const body = kernel.source.split("\n").slice(kernel.headerLines).join("\n");
  // `a[...]` or `b[...]` as a whole identifier: not `bias[`, `delta[` or a field access.
  return body.replace(/(?<![\w.])([ab])\[([^\]]+)\]/g, "vec4f($1[$2])");
}

/**
 * The f16-operand twin of a tiled kernel: `a` and `b` bound as `vec4<f16>` (every other binding,
 * the uniforms, overrides and grid as the f32 kernel's), named `<name>_f16`.
 */
function f16Twin<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number>,
>(kernel: Kernel<U, B, O>): Kernel<U, B, O> {
  return defineKernel({
    name: `${kernel.name}_f16`,
    bindings: { ...kernel.bindings, a: VEC4_F16, b: VEC4_F16 } as B,
    uniforms: uniformsOf(kernel),
    overrides: kernel.overrides,
    enables: ["f16"],
    grid: kernel.grid,
    wgsl: widenedBody(kernel),
  });
}

/** `c[z] = alpha · a[z] · b[z]`, a `[M, K]` and b `[K, N]` in f16, c in f32. */
export const matmulNnF16 = f16Twin(matmulNn);
/** `c[z] = alpha · a[z] · b[z]ᵀ (+ bias)`, a `[M, K]` and b `[N, K]` in f16, c and bias in f32. */
export const matmulNtF16 = f16Twin(matmulNt);
/** `c[z] = alpha · a[z]ᵀ · b[z]`, a `[K, M]` and b `[K, N]` in f16, c in f32. */
export const matmulTnF16 = f16Twin(matmulTn);
/** `matmul_nn_narrow` (16×8 blocks, for N ≤ 64) with f16 operands. */
export const matmulNnNarrowF16 = f16Twin(matmulNnNarrow);
/** `matmul_tn_narrow` (16×8 blocks, for N ≤ 64) with f16 operands. */
export const matmulTnNarrowF16 = f16Twin(matmulTnNarrow);

/** The uniform declaration of a kernel, rebuilt from its handle (names and types in order). */
function uniformsOf<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number>,
>(kernel: Kernel<U, B, O>): U {
  const out: Record<string, UniformType> = {};
  kernel.uniformNames.forEach((name, i) => out[name] = kernel.uniformTypes[i]);
  return out as U;
}

/** Uniforms of the tiled kernels without a bias (`nn`, `tn`), f32 or f16. */
export type TiledUniforms = typeof matmulNn extends Kernel<infer U, infer _B, infer _O> ? U
  : never;
/** Uniforms of `matmul_nt` and its f16 twin. */
export type TiledBiasUniforms = typeof matmulNt extends Kernel<infer U, infer _B, infer _O> ? U
  : never;

/** Work of one batched f16 matmul: 2·M·N·K flops per batch; operands 2 bytes, c 4 bytes. */
export function matmulF16Cost(
  { m, n, k, batch = 1 }: { m: number; n: number; k: number; batch?: number },
): KernelCost {
  return { flops: 2 * batch * m * n * k, bytes: batch * (2 * (m * k + k * n) + 4 * m * n) };
}
