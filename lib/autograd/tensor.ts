/**
 * `Tensor`: an f32, i32 or f16 array on the GPU with a shape, an owner and, for autograd, the node
 * that produced it. Tensors are created inside a `Scope` (released together when the step
 * ends), outside any scope (freed by `dispose()`, `using`, `releaseTemporaries` or the garbage
 * collector), or as persistent tensors (parameters, optimizer state) that the caller disposes.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { displayBundle, type FormatOptions, formatValues } from "./format.ts";
import { currentScope, trackLoose, untrackLoose } from "./scope.ts";
import {
  dropPending,
  type PendingClip,
  releaseStorage,
  settle,
  type Storage,
  storageFreer,
} from "./storage.ts";
import { assertDType, checkShape, shapeSize } from "./checks.ts";

export { assertDType, assertShape, shapeSize } from "./checks.ts";
export { readFloats } from "./read.ts";

/**
 * Element type of a tensor. `f16` (2 bytes an element, buffers rounded up to whole 4-byte words)
 * holds the half-precision copies that `--fp16` feeds its matmul kernels; it needs a device with
 * `shader-f16`, and only `castTensor` and the f16 matmul kernels read or write it.
 */
export type DType = "f32" | "i32" | "f16";

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: DType): number {
  return dtype === "f16" ? 2 : 4;
}

/** The autograd record of the op that produced a tensor. */
export interface GraphNode {
  readonly opName: string;
  readonly inputs: Readonly<Record<string, Tensor>>;
  backward(dout: Tensor): Record<string, Tensor | undefined>;
}

let nextId = 1;

/**
 * A GPU array with autograd bookkeeping: row-major data of one {@linkcode DType} in a pool
 * buffer of one {@linkcode Gpu}, with the gradient and the producing op when autograd records.
 * Ops (`matmul`, `add`, …) take and return tensors; `read()` brings values back.
 *
 * Ownership: a tensor made inside {@linkcode withScope} is freed when the scope ends; one made
 * outside any scope is freed by `dispose()`, a `using` declaration, {@linkcode releaseTemporaries}
 * or, eventually, the garbage collector; a persistent tensor (parameters, optimizer state) only by
 * `dispose()`.
 *
 * @example Upload, compute, read back
 * ```ts ignore
 * const gpu = await requestGpu();
 * const a = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
 * const b = fromArray(gpu, [1, 0, 0, 1, 1, 1], [3, 2]);
 * using c = matmul({ a, b }); // [2, 2]
 * console.log(await c.read()); // Float32Array [4, 5, 10, 11]
 * await c.print();
 * ```
 */
export class Tensor {
  /** A process-wide serial number, shown by `console.log` and in error messages. */
  readonly id: number = nextId++;
  /** The device whose buffer holds the data. */
  readonly gpu: Gpu;
  /** The dimensions, outermost first (frozen). */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
  /** Number of elements: the product of `shape` (1 for `[]`). */
  readonly size: number;
  /** Persistent tensors outlive scopes; the caller must `dispose` them. */
  readonly persistent: boolean;
  /** Gradient flows to this tensor (parameters set it; ops propagate it). */
  requiresGrad = false;
  /** Accumulated gradient, for leaf tensors that require it. */
  grad: Tensor | null = null;
  /**
   * The op that produced this tensor, when recorded for backward; `backward` walks these.
   *
   * @internal
   */
  node: GraphNode | null = null;
  /** Optional name, e.g. the checkpoint key of a parameter. */
  name?: string;
  #storage: Storage | null;

  /**
   * Allocates an uninitialised tensor; most code uses `empty`, `zeros` or `fromArray`. With
   * `viewOf`, the tensor is a zero-copy view that shares the buffer of a tensor of the same
   * size and dtype (a reshape); the buffer goes back to the pool when the base and every view
   * have been disposed, so either may outlive the other.
   */
  constructor(
    gpu: Gpu,
    shape: readonly number[],
    options: { dtype?: DType; persistent?: boolean; viewOf?: Tensor } = {},
  ) {
    checkShape(shape, "tensor");
    this.gpu = gpu;
    this.shape = Object.freeze([...shape]);
    this.dtype = options.dtype ?? "f32";
    this.size = shapeSize(shape);
    this.persistent = options.persistent ?? false;
    const base = options.viewOf;
    if (base) {
      if (base.size !== this.size || base.dtype !== this.dtype || base.gpu !== gpu) {
        throw new TypeError(
          `Cannot view ${base} as [${
            shape.join(", ")
          }] ${this.dtype}: size, dtype or device differ`,
        );
      }
      if (!base.#storage) throw new Error(`Cannot view tensor #${base.id}: it was disposed`);
      this.#storage = base.#storage;
      this.#storage.refs++;
    } else {
      this.#storage = { buffer: gpu.pool.acquire(this.#paddedBytes()), refs: 1 };
    }
    if (!this.persistent) {
      const scope = currentScope(gpu);
      if (scope) scope.track(this);
      else this.loosen();
    }
  }

  /**
   * Hands this tensor to its device's loose set (made outside any scope, or kept out of the
   * outermost one): freed by `dispose()`, `releaseTemporaries` or the garbage collector.
   *
   * @internal
   */
  loosen(): void {
    if (this.#storage) trackLoose(this, storageFreer(this.gpu, this.#storage));
  }

  /**
   * The GPU buffer, after what its storage still owes (`fillLater`, `clipLater`); throws once
   * disposed.
   */
  get buffer(): GPUBuffer {
    const storage = this.#live();
    if (storage.fill !== undefined || storage.clip) settle(this, storage);
    return storage.buffer;
  }

  #live(): Storage {
    if (!this.#storage) {
      throw new Error(
        `Cannot use tensor #${this.id}${this.name ? ` "${this.name}"` : ""}: it was disposed`,
      );
    }
    return this.#storage;
  }

  /**
   * Sets every element to `value` without a dispatch now: the fill is dispatched when the data is
   * first used (bound, read, copied), through this tensor or a view, unless `assign` comes first.
   *
   * @internal
   */
  fillLater(value: number): void {
    assertDType(this, "f32", "fill tensor", "t");
    const storage = this.#live();
    dropPending(storage);
    storage.fill = value;
  }

  /**
   * Scales every element by `clip_grad_norm_`'s factor for `norm` (a `[1]` tensor) and
   * `maxNorm` without a dispatch now: `AdamW` applies it as it reads the gradient
   * ({@linkcode Tensor.takeClip}); any other use dispatches it first. Zeros pending stay zeros.
   *
   * @internal
   */
  clipLater(norm: Tensor, maxNorm: number): void {
    const storage = this.#live();
    if (storage.fill === 0) return;
    settle(this, storage); // a clip or another fill owed before this one
    const view = new Tensor(norm.gpu, norm.shape, { viewOf: norm, persistent: true });
    storage.clip = { norm: view, maxNorm };
  }

  /**
   * Hands over the pending clip of {@linkcode Tensor.clipLater}, if any, to a kernel that applies
   * it itself; the caller disposes its `norm` once the dispatch is recorded.
   *
   * @internal
   */
  takeClip(): PendingClip | undefined {
    const storage = this.#live(), clip = storage.clip;
    storage.clip = undefined;
    return clip;
  }

  /**
   * The value of a {@linkcode Tensor.fillLater} not dispatched yet, if any.
   *
   * @internal
   */
  get pendingFill(): number | undefined {
    return this.#storage?.fill;
  }

  /**
   * Overwrites this tensor with `src`'s data (same dtype and size), dropping a pending fill:
   * with `adopt`, when this tensor is persistent, no other tensor (a view, a gradient that took
   * it in) holds either buffer and both are of one size (so live bytes stay flat), by taking
   * `src`'s buffer (this one's goes back to the pool; `src`'s owner still frees `src`, which then
   * only drops its hold), else by one buffer copy. `backward` hands leaves gradients this way.
   *
   * @internal
   */
  assign(src: Tensor, adopt: boolean): void {
    if (src.size !== this.size || src.dtype !== this.dtype || src.gpu !== this.gpu) {
      throw new Error(`Cannot assign ${src} to ${this}: size, dtype or device differ`);
    }
    const own = this.#live(), storage = src.#live();
    if (storage === own) return;
    if (
      adopt && this.persistent && own.refs === 1 && storage.refs === 1 &&
      storage.buffer.size === own.buffer.size
    ) {
      storage.refs++;
      releaseStorage(this.gpu, own);
      this.#storage = storage;
      return;
    }
    dropPending(own);
    if (this.size > 0) this.gpu.recorder.copy(src.buffer, 0, this.buffer, 0, this.#paddedBytes());
  }

  /** Bytes of data (the buffer may be larger: pool size classes). */
  get byteLength(): number {
    return this.size * dtypeBytes(this.dtype);
  }

  /**
   * Bytes a binding of this tensor spans: the data rounded up to whole 4-byte words. An empty
   * tensor spans 16 bytes, one element of the widest binding type (`vec4<f32>`), so that every
   * kernel accepts it; kernels read nothing of it.
   */
  #paddedBytes(): number {
    return this.size === 0 ? 16 : Math.ceil(this.byteLength / 4) * 4;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#storage === null;
  }

  /** A binding of exactly this tensor's bytes, for dispatch. */
  get ref(): { buffer: GPUBuffer; size: number } {
    return { buffer: this.buffer, size: this.#paddedBytes() };
  }

  /** Returns the buffer to the pool (once no view shares it). Safe to call twice. */
  dispose(): void {
    if (!this.#storage) return;
    untrackLoose(this);
    releaseStorage(this.gpu, this.#storage);
    this.#storage = null;
    this.node = null;
  }

  /** Disposes the tensor at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Copies the data back to the CPU (flushes recorded work first); f16 is widened to f32. */
  async read(): Promise<Float32Array | Int32Array> {
    const bytes = await this.gpu.recorder.read(this.buffer, this.#paddedBytes());
    if (this.dtype === "i32") return new Int32Array(bytes, 0, this.size);
    if (this.dtype === "f16") return Float32Array.from(new Float16Array(bytes, 0, this.size));
    return new Float32Array(bytes, 0, this.size);
  }

  /** Reads an f32 tensor; throws `TypeError` on an i32 tensor. */
  async readFloat(): Promise<Float32Array> {
    assertDType(this, "f32", "read");
    return new Float32Array(await this.gpu.recorder.read(this.buffer, this.byteLength));
  }

  /** Overwrites the contents from CPU data of the same size. */
  write(data: ArrayLike<number>): void {
    if (data.length !== this.size) {
      throw new TypeError(
        `Cannot write tensor [${
          this.shape.join(", ")
        }]: got ${data.length} values, expected ${this.size}`,
      );
    }
    const typed = this.dtype === "f32"
      ? (data instanceof Float32Array ? data : Float32Array.from(data))
      : this.dtype === "f16"
      ? Float16Array.from(data) // rounds to nearest even, as the f32→f16 cast kernel does
      : (data instanceof Int32Array ? data : Int32Array.from(data));
    if (this.size > 0) this.gpu.recorder.write(this.buffer, typed);
  }

  /** `Tensor(#id, [shape], dtype)`, for messages; values need `format()` or `print()`. */
  toString(): string {
    return `Tensor(#${this.id}, [${this.shape.join(", ")}], ${this.dtype})`;
  }

  /**
   * The values as `torch` prints them (4 decimals, `...` past 1000 elements) under a
   * `Tensor(shape=[…], dtype=…)` line. Reads the tensor back from the GPU.
   *
   * @example
   * ```ts ignore
   * const t = fromArray(gpu, [1, 2.5, -3, 4], [2, 2]);
   * await t.format(); // "Tensor(shape=[2, 2], dtype=f32)\n[[ 1.0000,  2.5000],\n [-3.0000,  4.0000]]"
   * ```
   */
  async format(options?: FormatOptions): Promise<string> {
    return `${this.#header()}\n${formatValues(await this.read(), this.shape, this.dtype, options)}`;
  }

  /** Prints {@linkcode Tensor.format} to stdout, as tfjs's `t.print()` does. */
  async print(options?: FormatOptions): Promise<void> {
    console.log(await this.format(options));
  }

  /**
   * What `console.log(t)` and `Deno.inspect(t)` show: one line with the id, shape and dtype, and
   * whether the tensor was disposed. It cannot show values: they live on the GPU and reading
   * them is asynchronous, while inspection is synchronous; `await t.print()` shows them.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#summary();
  }

  /**
   * The rich display of the Deno Jupyter kernel, which awaits it: the values as text and, for
   * 1-D and 2-D tensors, as an HTML table. A disposed tensor displays its one-line summary.
   */
  async [Symbol.for("Jupyter.display")](): Promise<Record<string, string>> {
    if (this.disposed) {
      return { "text/plain": this.#summary() };
    }
    return displayBundle(this.#header(), await this.read(), this.shape, this.dtype);
  }

  #summary(): string {
    const name = this.name === undefined ? "" : `, name="${this.name}"`;
    const state = this.disposed
      ? "disposed"
      : `${this.requiresGrad ? "requiresGrad, " : ""}values: await t.print()`;
    return `Tensor(#${this.id}, shape=[${
      this.shape.join(", ")
    }], dtype=${this.dtype}${name}, ${state})`;
  }

  #header(): string {
    return `Tensor(shape=[${this.shape.join(", ")}], dtype=${this.dtype})`;
  }
}

/** An uninitialised temporary tensor (owned by the current scope). */
export function empty(gpu: Gpu, shape: readonly number[], dtype: DType = "f32"): Tensor {
  return new Tensor(gpu, shape, { dtype });
}

/**
 * A new tensor of `shape` holding `data` (row-major; `data.length` must equal the shape's size).
 * Like any tensor, it is owned by the current scope unless `persistent`; `dtype` defaults to f32.
 *
 * @throws {TypeError} when the shape is not made of non-negative integers or the length differs.
 * @example
 * ```ts ignore
 * const x = fromArray(gpu, [0, 1, 2, 3, 4, 5], [2, 3]);
 * const ids = fromArray(gpu, [101, 2023, 102], [1, 3], { dtype: "i32" });
 * ```
 */
export function fromArray(
  gpu: Gpu,
  data: ArrayLike<number>,
  shape: readonly number[],
  options: { dtype?: DType; persistent?: boolean } = {},
): Tensor {
  const t = new Tensor(gpu, shape, options);
  t.write(data);
  return t;
}
