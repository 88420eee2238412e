/**
 * `defineKernel`: one WGSL compute kernel with its bindings and uniforms declared once, in
 * TypeScript. The WGSL header (uniform struct, storage bindings, `override` constants) and the
 * bind group layout are generated from that declaration, so binding numbers are never written
 * by hand twice.
 *
 * Binding order: `@binding(0)` is the uniform struct `u` (when the kernel has uniforms), then the
 * storage bindings in declaration order.
 *
 * @module
 */

/** How a kernel uses a storage binding. `write` outputs are overwritten, never accumulated. */
export type Access = "read" | "write" | "read_write";
/** WGSL element type of a storage binding. */
export type ElementType =
  | "f32"
  | "i32"
  | "u32"
  | "vec4<f32>"
  | "vec4<u32>"
  | "f16"
  | "vec4<f16>"
  | "atomic<u32>";
/** A storage binding: its access, or access plus element type (default `f32`). */
export type BindingSpec = Access | { access: Access; type: ElementType };

/** A storage binding read as `vec4<f32>`. */
export const VEC4_READ = { access: "read", type: "vec4<f32>" } as const;
/** A storage binding written as `vec4<f32>`. */
export const VEC4_WRITE = { access: "write", type: "vec4<f32>" } as const;
/** WGSL scalar type of a uniform field. */
export type UniformType = "u32" | "i32" | "f32";

/** Work a dispatch does, for roofline reports: floating-point operations and bytes moved. */
export interface KernelCost {
  flops: number;
  bytes: number;
}

/** Dispatch parameters: one number per uniform field. */
export type Params<U extends Record<string, UniformType>> = { [K in keyof U]: number };

/** What `defineKernel` takes. */
export interface KernelSpec<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number>,
> {
  /** WGSL and bench name, snake_case: `<op>_forward`, `<op>_backward`, `…_accumulate`. */
  name: string;
  bindings: B;
  /** Uniform fields, in struct order. Their values come from the dispatch parameters. */
  uniforms: U;
  /** Tunables as WGSL `override` constants (u32), with their defaults. */
  overrides?: O;
  /** Workgroups to dispatch for given parameters and override values. */
  grid: (params: Params<U>, overrides: O) => [number, number, number];
  /** The kernel body; the generated header is prepended. Entry point is `main`. */
  wgsl: string;
  /** WGSL `enable` directives the kernel needs, e.g. `["f16"]`. */
  enables?: string[];
}

/** A compiled-on-demand kernel handle; callers import these and pass them to `dispatch`. */
export interface Kernel<
  U extends Record<string, UniformType> = Record<string, UniformType>,
  B extends Record<string, BindingSpec> = Record<string, BindingSpec>,
  O extends Record<string, number> = Record<string, number>,
> {
  readonly name: string;
  readonly bindings: B;
  readonly bindingNames: readonly (keyof B & string)[];
  readonly uniformNames: readonly (keyof U & string)[];
  readonly uniformTypes: readonly UniformType[];
  readonly overrides: O;
  readonly grid: (params: Params<U>, overrides: O) => [number, number, number];
  /** Full WGSL source: generated header followed by the body. */
  readonly source: string;
  /** Lines in the generated header, to map compiler line numbers back to the body. */
  readonly headerLines: number;
}

/** The parts of any kernel that compiling it needs (variance-free, so every kernel fits). */
export type CompilableKernel = Pick<
  Kernel,
  "name" | "source" | "headerLines" | "bindings" | "bindingNames" | "uniformNames"
>;

function bindingOf(spec: BindingSpec): { access: Access; type: ElementType } {
  return typeof spec === "string" ? { access: spec, type: "f32" } : spec;
}

/** The `access` and element type of a binding declaration. */
export function bindingInfo(spec: BindingSpec): { access: Access; type: ElementType } {
  return bindingOf(spec);
}

/**
 * Declares a kernel. The generated header holds `struct Params` bound as `u`, one
 * `var<storage>` per binding, and one `override` per tunable.
 */
export function defineKernel<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number> = Record<string, never>,
>(spec: KernelSpec<U, B, O>): Kernel<U, B, O> {
  const uniformNames = Object.keys(spec.uniforms) as (keyof U & string)[];
  const uniformTypes = uniformNames.map((k) => spec.uniforms[k]);
  const bindingNames = Object.keys(spec.bindings) as (keyof B & string)[];
  const lines: string[] = [];
  for (const e of spec.enables ?? []) lines.push(`enable ${e};`);
  let slot = 0;
  if (uniformNames.length > 0) {
    const fields = uniformNames.map((k, i) => `${k}: ${uniformTypes[i]}`).join(", ");
    lines.push(`struct Params { ${fields} }`);
    lines.push(`@group(0) @binding(${slot++}) var<uniform> u: Params;`);
  }
  for (const name of bindingNames) {
    const { access, type } = bindingOf(spec.bindings[name]);
    const mode = access === "read" ? "read" : "read_write";
    lines.push(`@group(0) @binding(${slot++}) var<storage, ${mode}> ${name}: array<${type}>;`);
  }
  const overrides = (spec.overrides ?? {}) as O;
  for (const name of Object.keys(overrides)) {
    lines.push(`override ${name}: u32 = ${overrides[name]}u;`);
  }
  const header = lines.join("\n") + "\n";
  return {
    name: spec.name,
    bindings: spec.bindings,
    bindingNames,
    uniformNames,
    uniformTypes,
    overrides,
    grid: spec.grid,
    source: header + spec.wgsl,
    headerLines: lines.length,
  };
}

/** ⌈a / b⌉ for positive integers. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** The largest workgroup count allowed in one grid dimension by every WebGPU adapter. */
export const MAX_GRID = 65535;

/**
 * A 1-D launch of `n` invocations folded into x and y so that neither exceeds `MAX_GRID`;
 * the kernel reads its flat index with `flat_index` from `_wgsl.ts`.
 */
export function grid1d(n: number, wg: number): [number, number, number] {
  const groups = Math.max(1, ceilDiv(n, wg));
  if (groups <= MAX_GRID) return [groups, 1, 1];
  const y = ceilDiv(groups, MAX_GRID);
  return [ceilDiv(groups, y), y, 1];
}

/**
 * The workgroup size for row kernels (one workgroup per row) on rows of `c` elements: a power
 * of two from 32 to 256, with up to 32 elements per invocation. Short rows get one 32-wide
 * workgroup (one warp on most GPUs, few barrier levels); on lavapipe that was 2.5× faster than
 * 256 wide for layer norm at C = 768 and 4× faster than 128 wide for softmax at T = 128.
 */
export function rowWorkgroupSize(c: number): number {
  let wg = 32;
  while (wg < 256 && wg * 32 < c) wg *= 2;
  return wg;
}
