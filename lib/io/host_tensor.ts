/**
 * Host-side tensors: the raw little-endian bytes of one checkpoint entry, with its dtype and
 * shape. Checkpoint readers produce them, writers consume them, and the model converts them
 * to `Float32Array` before uploading to the GPU.
 *
 * dtype names are the safetensors spellings (`F32`, `BF16`, `I64`, ...).
 *
 * @module
 */

/** Element types a checkpoint may hold, spelled as in the safetensors header. */
export type DType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** Bytes per element of each {@linkcode DType}. */
export const DTYPE_SIZES: Readonly<Record<DType, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
});

/** One tensor held on the host: dtype, shape and raw little-endian bytes, row-major. */
export interface HostTensor {
  /** Element type. */
  dtype: DType;
  /** Sizes, outermost first; `[]` is a scalar. */
  shape: number[];
  /** `product(shape) * DTYPE_SIZES[dtype]` bytes, little-endian, contiguous row-major. */
  data: Uint8Array;
}

/** Checkpoint contents: exact PyTorch key → tensor, in file order. */
export type StateDict = Map<string, HostTensor>;

/**
 * Whether `name` is a dtype this package knows.
 *
 * @param name A dtype name as read from a file.
 * @returns True when `name` is a {@linkcode DType}.
 */
export function isDType(name: unknown): name is DType {
  return typeof name === "string" && Object.hasOwn(DTYPE_SIZES, name);
}

/**
 * Number of elements of a shape (1 for a scalar).
 *
 * @param shape Sizes, each a non-negative integer.
 * @returns The product of the sizes.
 * @throws {RangeError} When a size is negative or not an integer, or the product is not a
 * safe integer.
 *
 * @example Count elements
 * ```ts
 * import { numel } from "./host_tensor.ts";
 * import { equal } from "node:assert/strict";
 * equal(numel([2, 3, 4]), 24);
 * ```
 */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`Cannot count elements of shape [${shape}]: size ${d} is invalid`);
    }
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new RangeError(`Cannot count elements of shape [${shape}]: count overflows`);
    }
  }
  return n;
}

/**
 * Make an `F32` host tensor from float values (copied).
 *
 * @param shape Sizes of the tensor.
 * @param values `product(shape)` values, row-major.
 * @returns A new `F32` {@linkcode HostTensor}.
 * @throws {TypeError} When the value count does not match the shape.
 *
 * @example Build a 2×2 tensor
 * ```ts
 * import { hostTensorFromFloat32, toFloat32 } from "./host_tensor.ts";
 * import { deepEqual } from "node:assert/strict";
 * const t = hostTensorFromFloat32([2, 2], new Float32Array([1, 2, 3, 4]));
 * deepEqual(Array.from(toFloat32(t)), [1, 2, 3, 4]);
 * ```
 */
export function hostTensorFromFloat32(shape: readonly number[], values: Float32Array): HostTensor {
  const n = numel(shape);
  if (values.length !== n) {
    throw new TypeError(
      `Cannot make a tensor of shape [${shape}]: got ${values.length} values, need ${n}`,
    );
  }
  const data = new Uint8Array(n * 4);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i], true);
  return { dtype: "F32", shape: [...shape], data };
}

/**
 * Exact value of an IEEE 754 binary16 bit pattern (subnormals, ±0, ±inf and NaN kept).
 *
 * @param bits The 16-bit pattern, as an unsigned integer.
 * @returns The value as a float64 (exactly representable in float32 as well).
 *
 * @example Decode 1.0 and -inf
 * ```ts
 * import { f16BitsToNumber } from "./host_tensor.ts";
 * import { equal } from "node:assert/strict";
 * equal(f16BitsToNumber(0x3c00), 1);
 * equal(f16BitsToNumber(0xfc00), -Infinity);
 * ```
 */
export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero: frac · 2^-14 · 2^-10
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25); // (1 + frac/1024) · 2^(exp-15)
}

let F16_TABLE: Float32Array | undefined;

/** All 65536 binary16 values as float32, built on first use (256 KiB). */
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) F16_TABLE[b] = f16BitsToNumber(b);
  }
  return F16_TABLE;
}

/**
 * Copy any numeric host tensor into a new `Float32Array`. F16 and BF16 convert exactly (both
 * are subsets of float32); F64 and 64-bit integers round to the nearest float32.
 *
 * @param t The tensor to convert.
 * @returns `product(t.shape)` values, row-major.
 * @throws {TypeError} When the byte length does not match the shape and dtype.
 *
 * @example Convert BF16 bytes
 * ```ts
 * import { toFloat32 } from "./host_tensor.ts";
 * import { deepEqual } from "node:assert/strict";
 * // bf16 0x3f80 = 1.0, 0xc000 = -2.0 (little-endian bytes)
 * const t = { dtype: "BF16" as const, shape: [2], data: new Uint8Array([0x80, 0x3f, 0x00, 0xc0]) };
 * deepEqual(Array.from(toFloat32(t)), [1, -2]);
 * ```
 */
export function toFloat32(t: HostTensor): Float32Array {
  const n = numel(t.shape);
  const size = DTYPE_SIZES[t.dtype];
  if (size === undefined) throw new TypeError(`Cannot convert dtype "${t.dtype}" to F32`);
  if (t.data.byteLength !== n * size) {
    throw new TypeError(
      `Cannot convert a ${t.dtype} tensor of shape [${t.shape}] to F32: ` +
        `it holds ${t.data.byteLength} bytes, expected ${n * size}`,
    );
  }
  const out = new Float32Array(n);
  const v = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true);
      break;
    case "F16": {
      const table = f16Table();
      for (let i = 0; i < n; i++) out[i] = table[v.getUint16(2 * i, true)];
      break;
    }
    case "BF16": {
      // bf16 is the top half of a float32: shift the bits into place and reinterpret.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(8 * i, true));
      break;
    case "U64":
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigUint64(8 * i, true));
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, true);
      break;
    case "U32":
      for (let i = 0; i < n; i++) out[i] = v.getUint32(4 * i, true);
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) out[i] = v.getUint16(2 * i, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      break;
    case "U8":
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i);
      break;
  }
  return out;
}
