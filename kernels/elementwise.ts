/**
 * Elementwise kernels with NumPy broadcasting up to rank 4: `out = a + b`, `out = a * b`,
 * `out = s * a`, plus `fill`, in-place `accumulate` (`dst += src`) and `reduce_to`, the sum over
 * broadcast dimensions that the backward of a broadcasting op needs.
 *
 * Shapes are right-aligned and padded to rank 4 with 1s (`[d0, d1, d2, d3]`). A broadcast input
 * has stride 0 along the dimensions it is broadcast over.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `binary_forward` | a, b → out | out = a ⊕ b (op 0: add, 1: mul) |
 * | `scale_forward` | a → out | out = s·a |
 * | `fill` | → out | out = value |
 * | `accumulate` | src → dst | dst += src (accumulates) |
 * | `reduce_to` | inp → out | out[j] = Σ over broadcast dims of inp |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost, VEC4_READ, VEC4_WRITE } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** Rank that broadcasting kernels support. */
export const MAX_RANK = 4;

const INDEX4 = /* wgsl */ `
fn coord(i: u32, d1: u32, d2: u32, d3: u32) -> vec4u {
  let c3 = i % d3;
  let r = i / d3;
  let c2 = r % d2;
  let r2 = r / d2;
  return vec4u(r2 / d1, r2 % d1, c2, c3);
}
`;

/** `out = a + b` (op 0) or `out = a * b` (op 1), with strides for broadcasting. */
export const binaryForward = defineKernel({
  name: "binary_forward",
  bindings: { a: "read", b: "read", out: "write" },
  uniforms: {
    n: "u32",
    op: "u32",
    d1: "u32",
    d2: "u32",
    d3: "u32",
    sa0: "u32",
    sa1: "u32",
    sa2: "u32",
    sa3: "u32",
    sb0: "u32",
    sb1: "u32",
    sb2: "u32",
    sb3: "u32",
  },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${INDEX4}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let c = coord(i, u.d1, u.d2, u.d3);
  let x = a[dot(c, vec4u(u.sa0, u.sa1, u.sa2, u.sa3))];
  let y = b[dot(c, vec4u(u.sb0, u.sb1, u.sb2, u.sb3))];
  out[i] = select(x + y, x * y, u.op == 1u);
}`,
});

/** The body of the vec4 binary kernels, reading `a[ia]` and `b[ib]` for output vec4 `i`. */
const binaryVec4Body = (ia: string, ib: string) =>
  /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n4) { return; }
  let x = a[${ia}];
  let y = b[${ib}];
  out[i] = select(x + y, x * y, u.op == 1u);
}`;

/**
 * `out = a + b` (op 0) or `out = a * b` (op 1) for two tensors of one shape, four elements per
 * invocation (`n4` = n / 4 vec4s; the caller checks n % 4 = 0). Without broadcasting's index
 * arithmetic and with vec4 loads it ran 4× faster than `binary_forward` on lavapipe at
 * [1024, 256].
 */
export const binaryVec4 = defineKernel({
  name: "binary_vec4",
  bindings: { a: VEC4_READ, b: VEC4_READ, out: VEC4_WRITE },
  uniforms: { n4: "u32", op: "u32" },
  overrides: { WG: 256 },
  grid: ({ n4 }, { WG }) => grid1d(n4, WG),
  wgsl: binaryVec4Body("i", "i"),
});

/**
 * `binary_vec4` where one operand repeats along the leading dimensions of the other (its shape,
 * leading 1s dropped, is a suffix of the output's: position embeddings `[T, C]` added to a batch
 * `[B, T, C]`): `a` has `an4` vec4s and `b` has `bn4`, one of them `n4` and the other a divisor of
 * it. On lavapipe it ran the embeddings' `[32, 48, 128] + [48, 128]` about 5× faster than
 * `binary_forward`'s general index arithmetic.
 */
export const binaryTailVec4 = defineKernel({
  name: "binary_tail_vec4",
  bindings: { a: VEC4_READ, b: VEC4_READ, out: VEC4_WRITE },
  uniforms: { n4: "u32", an4: "u32", bn4: "u32", op: "u32" },
  overrides: { WG: 256 },
  grid: ({ n4 }, { WG }) => grid1d(n4, WG),
  wgsl: binaryVec4Body("i % u.an4", "i % u.bn4"),
});

/** `out = s · a`. */
export const scaleForward = defineKernel({
  name: "scale_forward",
  bindings: { a: "read", out: "write" },
  uniforms: { n: "u32", s: "f32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  out[i] = u.s * a[i];
}`,
});

/** `out = value` for the first `n` elements. */
export const fill = fillKernel(1);
/** `out[i] = value` over `n` vec4s (sizes that are multiples of 4). */
export const fillVec4 = fillKernel(4);

function fillKernel(width: 1 | 4) {
  return defineKernel({
    name: width === 4 ? "fill_vec4" : "fill",
    bindings: { out: { access: "write", type: width === 4 ? "vec4<f32>" : "f32" } },
    uniforms: { n: "u32", value: "f32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  out[i] = ${width === 4 ? "vec4f(u.value)" : "u.value"};
}`,
  });
}

/**
 * `dst += s · src`, in place: the engine's gradient accumulation, over `n` f32 elements
 * (`accumulate`) or, for sizes that are multiples of 4, `n` vec4s (`accumulate_vec4`).
 */
function accumulateKernel(width: 1 | 4) {
  const type = width === 4 ? "vec4<f32>" : "f32";
  return defineKernel({
    name: width === 4 ? "accumulate_vec4" : "accumulate",
    bindings: { src: { access: "read", type }, dst: { access: "read_write", type } },
    uniforms: { n: "u32", s: "f32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  dst[i] = dst[i] + u.s * src[i];
}`,
  });
}

/** `dst += s · src` over `n` f32 elements. */
export const accumulate = accumulateKernel(1);
/** `dst += s · src` over `n` vec4s. */
export const accumulateVec4 = accumulateKernel(4);

/**
 * `out[j] = Σ inp[i]` over every `i` of the full shape `[d0..d3]` that maps onto `j` of the
 * output shape `[o0..o3]` (each `o_k` is `d_k` or 1).
 */
export const reduceTo = defineKernel({
  name: "reduce_to",
  bindings: { inp: "read", out: "write" },
  uniforms: {
    n: "u32",
    r: "u32",
    d0: "u32",
    d1: "u32",
    d2: "u32",
    d3: "u32",
    o0: "u32",
    o1: "u32",
    o2: "u32",
    o3: "u32",
  },
  overrides: { WG: 64 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${INDEX4}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_index(gid, nwg);
  if (j >= u.n) { return; }
  let oc = coord(j, u.o1, u.o2, u.o3);
  let full = vec4u(u.d0, u.d1, u.d2, u.d3);
  let outd = vec4u(u.o0, u.o1, u.o2, u.o3);
  // Reduced dimensions have out size 1 and full size > 1; iterate their product.
  let red = select(vec4u(1u), full, outd != full);
  var acc = 0.0;
  for (var k = 0u; k < u.r; k++) {
    let rc = coord(k, red.y, red.z, red.w);
    let c = select(oc, rc, outd != full);
    acc += inp[((c.x * u.d1 + c.y) * u.d2 + c.z) * u.d3 + c.w];
  }
  out[j] = acc;
}`,
});

/** Pads `shape` on the left with 1s to rank 4. */
export function pad4(shape: readonly number[]): [number, number, number, number] {
  if (shape.length > MAX_RANK) {
    throw new TypeError(`Cannot broadcast shape [${shape.join(", ")}]: rank above ${MAX_RANK}`);
  }
  const p = [1, 1, 1, 1, ...shape].slice(-4);
  return [p[0], p[1], p[2], p[3]];
}

/** The broadcast shape of `a` and `b`, or a `TypeError` naming both. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new TypeError(
        `Cannot broadcast shapes [${a.join(", ")}] and [${
          b.join(", ")
        }]: dimension ${i} is ${x} vs ${y}`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Strides of `shape` inside the 4-D `full` shape: 0 where `shape` is broadcast. */
export function broadcastStrides(shape: readonly number[], full: Dims4Tuple): Dims4Tuple {
  const s = pad4(shape);
  const st: Dims4Tuple = [0, 0, 0, 0];
  let acc = 1;
  for (let k = 3; k >= 0; k--) {
    st[k] = s[k] === 1 && full[k] !== 1 ? 0 : acc;
    acc *= s[k];
  }
  return st;
}
type Dims4Tuple = [number, number, number, number];

// ---- float64 references -------------------------------------------------------------------

function index4(i: number, d: Dims4Tuple): Dims4Tuple {
  const c3 = i % d[3], r = Math.floor(i / d[3]);
  const c2 = r % d[2], r2 = Math.floor(r / d[2]);
  return [Math.floor(r2 / d[1]), r2 % d[1], c2, c3];
}

/** Reference for `binary_forward`. */
export function binaryForwardRef(
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
  op: "add" | "mul",
): Float64Array {
  const shape = broadcastShape(aShape, bShape);
  const full = pad4(shape);
  const sa = broadcastStrides(aShape, full), sb = broadcastStrides(bShape, full);
  const n = full[0] * full[1] * full[2] * full[3];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = index4(i, full);
    const x = a[c[0] * sa[0] + c[1] * sa[1] + c[2] * sa[2] + c[3] * sa[3]];
    const y = b[c[0] * sb[0] + c[1] * sb[1] + c[2] * sb[2] + c[3] * sb[3]];
    out[i] = op === "add" ? x + y : x * y;
  }
  return out;
}

/** Reference for `reduce_to`: sums `inp` of shape `full` down to `shape`. */
export function reduceToRef(
  inp: Float64Array,
  fullShape: readonly number[],
  shape: readonly number[],
): Float64Array {
  const full = pad4(fullShape);
  const st = broadcastStrides(shape, full);
  const out = new Float64Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < inp.length; i++) {
    const c = index4(i, full);
    out[c[0] * st[0] + c[1] * st[1] + c[2] * st[2] + c[3] * st[3]] += inp[i];
  }
  return out;
}

/** Cost of an elementwise kernel over `n` outputs reading `reads` arrays. */
export function elementwiseCost({ n, reads = 1 }: { n: number; reads?: number }): KernelCost {
  return { flops: n, bytes: 4 * n * (reads + 1) };
}
