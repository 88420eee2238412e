/**
 * Multi-tensor ("foreach") forms of the per-parameter passes of a training step, for the many
 * small parameters (biases, norm gains, task embeddings): one dispatch covers `g` tensors, each
 * bound on its own, instead of one dispatch each. A dispatch has a fixed cost whatever its size
 * (about 80 µs on lavapipe, more than a bias's arithmetic), and a model has dozens of them.
 * PyTorch's `_foreach_*` kernels do the same on CUDA.
 *
 * The `g` tensors' elements are laid end to end in one index space: `off0 = 0 ≤ off1 ≤ … ≤ offg`
 * (uniforms), tensor j holding indices `offj … off(j+1) − 1`. Each kernel is generated for its
 * `g` (1 ≤ g ≤ {@linkcode MAX_GROUP}), with tensor j bound as `tj` (or `pj`, `gj`, `mj`, `vj`).
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `scale_clip_multi_g` | norm, t0…t(g−1) | t ← min(1, max_norm / (norm + 1e-6)) · t |
 * | `sum_squares_multi_g` | t0…t(g−1) → partial | partial[base + j] = Σ tj², one workgroup per tensor |
 * | `adamw_multi_g` | pj, gj, mj, vj for each j | AdamW as `adamw_update`, step size and decay per tensor |
 *
 * @module
 */

import { CLIP_COEF } from "./global_norm.ts";
import { type BindingSpec, defineKernel, grid1d, type Kernel, type UniformType } from "./kernel.ts";
import { FLAT_INDEX, range } from "./_wgsl.ts";
import { TREE_SUM } from "./_reduce_wgsl.ts";

/** The most tensors one multi-tensor dispatch takes. */
export const MAX_GROUP = 8;

/** `offj` uniforms for j = 0..g. */
function offsetUniforms(g: number): Record<string, UniformType> {
  return Object.fromEntries(range(g + 1).map((j) => [`off${j}`, "u32"]));
}

/** WGSL: `j` (which tensor flat index `i` falls in) and `l` (its index there). */
function segment(g: number): string {
  const find = range(g).slice(1).map((j) =>
    `  if (i >= u.off${j}) { j = ${j}u; l = i - u.off${j}; }`
  );
  return `  var j = 0u;\n  var l = i;\n${find.join("\n")}`;
}

/** WGSL: `switch j { case 0u: { body(0) } … }`. */
function perTensor(g: number, body: (j: number) => string): string {
  const cases = range(g).map((j) => `    case ${j}u: { ${body(j)} }`).join("\n");
  return `  switch j {\n${cases}\n    default: {}\n  }`;
}

const cache = new Map<
  string,
  Kernel<Record<string, UniformType>, Record<string, BindingSpec>, Record<string, number>>
>();

function cached<K>(key: string, make: () => K): K {
  if (!cache.has(key)) cache.set(key, make() as never);
  return cache.get(key) as K;
}

function checkGroup(g: number): void {
  if (!Number.isInteger(g) || g < 1 || g > MAX_GROUP) {
    throw new RangeError(`Cannot build a multi-tensor kernel for ${g} tensors (1..${MAX_GROUP})`);
  }
}

/**
 * An elementwise kernel over `g` tensors laid end to end: each invocation finds its tensor `j`
 * and index `l` in it, runs `before` (shared), then `body(j)` for its tensor.
 */
function flatKernel(
  name: string,
  g: number,
  bindings: Record<string, BindingSpec>,
  uniforms: Record<string, UniformType>,
  { helpers = "", before = "", body }: {
    helpers?: string;
    before?: string;
    body: (j: number) => string;
  },
) {
  return defineKernel({
    name: `${name}_${g}`,
    bindings,
    uniforms: { ...offsetUniforms(g), ...uniforms },
    overrides: { WG: 256 },
    grid: (u: Record<string, number>, { WG }: { WG: number }) => grid1d(u[`off${g}`], WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}${helpers}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.off${g}) { return; }
${before}
${segment(g)}
${perTensor(g, body)}
}`,
  });
}

const tensorsOf = (g: number, access: "read" | "read_write") =>
  Object.fromEntries(range(g).map((j) => [`t${j}`, access]));

/** `tj[l] *= min(1, max_norm / (norm[0] + 1e-6))`: clipping `g` gradients by one norm. */
export function scaleClipMulti(g: number) {
  checkGroup(g);
  return cached(`clip${g}`, () =>
    flatKernel(
      "scale_clip_multi",
      g,
      { norm: "read", ...tensorsOf(g, "read_write") },
      { max_norm: "f32" },
      {
        before: `  let coef = ${CLIP_COEF};`,
        body: (j) => `t${j}[l] = coef * t${j}[l];`,
      },
    ));
}

/**
 * `partial[base + j] = Σ_l tj[l]²`: one workgroup per tensor (workgroup j sums tensor j in a
 * fixed order: strided per invocation, then the tree), for the global norm.
 */
export function sumSquaresMulti(g: number) {
  checkGroup(g);
  return cached(`sumsq${g}`, () =>
    defineKernel({
      name: `sum_squares_multi_${g}`,
      bindings: {
        ...Object.fromEntries(range(g).map((j) => [`t${j}`, "read" as const])),
        partial: "write" as const,
      },
      uniforms: { ...offsetUniforms(g), base: "u32" },
      overrides: { WG: 64 },
      grid: () => [g, 1, 1] as [number, number, number],
      wgsl: /* wgsl */ `${TREE_SUM}
fn size_of(j: u32) -> u32 {
  switch j {
${range(g).map((j) => `    case ${j}u: { return u.off${j + 1} - u.off${j}; }`).join("\n")}
    default: { return 0u; }
  }
}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x;
  let n = size_of(j);
  var acc = 0.0;
  for (var l = lid; l < n; l += WG) {
    var x = 0.0;
${perTensor(g, (k) => `x = t${k}[l];`)}
    acc += x * x;
  }
  let s = tree_sum(lid, acc);
  if (lid == 0u) { partial[u.base + j] = s; }
}`,
    }));
}

/**
 * One AdamW step (as `adamw_update`) over `g` parameters: `pj`, `gj`, `mj`, `vj` in place,
 * with tensor j's own bias-corrected step size `ssj` and decay `decj` (`lr·wd`, or 0).
 */
export function adamwMulti(g: number) {
  checkGroup(g);
  return cached(`adamw${g}`, () =>
    flatKernel(
      "adamw_multi",
      g,
      Object.fromEntries(
        range(g).flatMap((j) => [
          [`p${j}`, "read_write" as const],
          [`g${j}`, "read" as const],
          [`m${j}`, "read_write" as const],
          [`v${j}`, "read_write" as const],
        ]),
      ),
      {
        beta1: "f32",
        beta2: "f32",
        one_minus_beta1: "f32",
        one_minus_beta2: "f32",
        eps: "f32",
        ...Object.fromEntries(range(g).flatMap((j) => [[`ss${j}`, "f32"], [`dec${j}`, "f32"]])),
      },
      {
        helpers: /* wgsl */ `
fn update(p: f32, g: f32, m: ptr<function, f32>, v: ptr<function, f32>, ss: f32, dec: f32) -> f32 {
  *m = u.beta1 * *m + u.one_minus_beta1 * g;
  *v = u.beta2 * *v + u.one_minus_beta2 * g * g;
  let p1 = p - ss * *m / (sqrt(*v) + u.eps);
  return p1 - dec * p1;
}`,
        body: (j) =>
          `var m = m${j}[l]; var v = v${j}[l]; ` +
          `p${j}[l] = update(p${j}[l], g${j}[l], &m, &v, u.ss${j}, u.dec${j}); ` +
          `m${j}[l] = m; v${j}[l] = v;`,
      },
    ));
}

/** Offsets `off0..offg` of tensors of `sizes` laid end to end. */
export function offsetsOf(sizes: readonly number[]): Record<string, number> {
  const out: Record<string, number> = { off0: 0 };
  sizes.forEach((n, j) => out[`off${j + 1}`] = out[`off${j}`] + n);
  return out;
}
