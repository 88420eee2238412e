/**
 * A size-bucketed pool of storage buffers. GPU memory is not garbage-collected in useful time,
 * so every buffer has an owner: tensors take buffers from the pool and give them back when they
 * are released, and the pool reuses them for later requests of the same size class.
 *
 * Size classes keep 3 significant bits (at most 12.5% waste): 1024, 1152, 1280, … bytes.
 * When a class has no free buffer, the smallest free buffer of up to twice the class's size is
 * handed out before a new one is made: batches that mix tasks differently from step to step
 * ask for different classes, and without this the pool kept making buffers for classes it had
 * not seen yet while larger ones sat idle (CA-MTL-tiny's reserved bytes grew by a quarter
 * between steps 10 and 200).
 *
 * The pool also keeps high-water marks, as PyTorch's caching allocator does
 * (`torch.cuda.max_memory_allocated` / `max_memory_reserved`, cleared by
 * `reset_peak_memory_stats`): the most bytes handed out at once and the most bytes held from the
 * device at once, since the pool was made or since the last `resetPeak()`. Buffers made outside
 * the pool (the recorder's uniform arena and readback staging) are not counted.
 *
 * @example Peak bytes of one step
 * ```ts ignore
 * gpu.pool.resetPeak();
 * await step();
 * const { peakLiveBytes, peakReservedBytes } = gpu.pool.stats();
 * ```
 *
 * @module
 */

import { GpuMemoryError, LOWER_SIZES_FIX } from "./errors.ts";

const MIN_BYTES = 256;
/** A free buffer up to this many times the requested class may serve a request. */
const MAX_REUSE_RATIO = 2;

/** The size class that `bytes` is rounded up to. */
export function bucketSize(bytes: number): number {
  const n = Math.max(MIN_BYTES, Math.ceil(bytes / 4) * 4);
  const step = 2 ** Math.max(Math.floor(Math.log2(n)) - 3, 2);
  return Math.ceil(n / step) * step;
}

/** The smaller of the two limits on one bound buffer (unlimited for devices without limits). */
function bindableLimit(limits: GPUSupportedLimits | undefined): { bytes: number; name: string } {
  const binding = limits?.maxStorageBufferBindingSize ?? Infinity;
  const buffer = limits?.maxBufferSize ?? Infinity;
  const bytes = Math.floor(Math.min(binding, buffer) / 4) * 4;
  return { bytes, name: binding <= buffer ? "maxStorageBufferBindingSize" : "maxBufferSize" };
}

/** `402,653,184 bytes (384.0 MiB)`. */
function sizeText(bytes: number): string {
  return `${bytes.toLocaleString("en")} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
}

/** Byte counts the pool reports; `liveBytes` must return to its start after each step. */
export interface PoolStats {
  /** Bytes in buffers currently handed out (size classes, not requested bytes). */
  liveBytes: number;
  /** Bytes in buffers waiting in the pool. */
  pooledBytes: number;
  /** Bytes held from the device: `liveBytes + pooledBytes` (torch's `memory_reserved`). */
  reservedBytes: number;
  /** Highest `liveBytes` since the pool was made or `resetPeak()` (`max_memory_allocated`). */
  peakLiveBytes: number;
  /** Highest `reservedBytes` since the pool was made or `resetPeak()` (`max_memory_reserved`). */
  peakReservedBytes: number;
  /** Buffers created since the pool was made. */
  created: number;
}

/**
 * Storage buffers bucketed by size class: {@linkcode Gpu.pool}. Tensors take their buffers from
 * it and give them back when disposed; users read its memory counters, as they would
 * `torch.cuda.memory_stats()`.
 *
 * @example Live bytes stay flat across steps
 * ```ts ignore
 * const before = gpu.pool.stats().liveBytes;
 * await withScope(gpu, () => {
 *   model.forward(batch); // outputs and intermediates go back to the pool with the scope
 * });
 * console.log(gpu.pool.stats().liveBytes - before); // 0
 * ```
 */
export class BufferPool {
  readonly #device: GPUDevice;
  /** The largest buffer a kernel can bind whole, and its limit's name. */
  readonly #limit: { bytes: number; name: string };
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly #live = new Set<GPUBuffer>();
  #liveBytes = 0;
  #pooledBytes = 0;
  #peakLiveBytes = 0;
  #peakReservedBytes = 0;
  #created = 0;

  /**
   * Made by {@linkcode Gpu}'s constructor, one per device.
   *
   * @internal
   */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#limit = bindableLimit(device.limits);
  }

  /**
   * A buffer of at least `bytes` bytes usable as storage, copy source and copy destination.
   *
   * @internal
   * @throws {RangeError} when `bytes` is negative or not finite.
   * @throws {GpuMemoryError} when `bytes` exceeds what the device can bind (its
   *   `maxStorageBufferBindingSize` or `maxBufferSize`), naming the size, the limit and the fix.
   */
  acquire(bytes: number): GPUBuffer {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) {
      throw new RangeError(
        `Cannot acquire buffer: size is ${bytes} bytes, expected a finite size ≥ 0`,
      );
    }
    const limit = this.#limit;
    if (bytes > limit.bytes) {
      throw new GpuMemoryError(
        `Cannot allocate a GPU buffer of ${sizeText(bytes)}: the adapter's ${limit.name} is ` +
          `${sizeText(limit.bytes)}; ${LOWER_SIZES_FIX}`,
      );
    }
    // A size class may round past the limit; such a buffer is made at the limit instead.
    const want = Math.min(bucketSize(bytes), limit.bytes);
    let buffer = this.#free.get(want)?.pop() ?? this.#takeLarger(want);
    if (buffer) {
      this.#pooledBytes -= buffer.size;
    } else {
      buffer = this.#device.createBuffer({
        size: want,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.#created++;
    }
    this.#live.add(buffer);
    this.#liveBytes += buffer.size;
    // Reserved bytes only grow here (a new buffer) and live bytes only grow here.
    this.#peakLiveBytes = Math.max(this.#peakLiveBytes, this.#liveBytes);
    this.#peakReservedBytes = Math.max(this.#peakReservedBytes, this.#reservedBytes);
    return buffer;
  }

  /** The smallest free buffer in a class above `size` and at most `MAX_REUSE_RATIO`·`size`. */
  #takeLarger(size: number): GPUBuffer | undefined {
    let best = Infinity;
    for (const [s, list] of this.#free) {
      if (s > size && s < best && s <= MAX_REUSE_RATIO * size && list.length > 0) best = s;
    }
    return best === Infinity ? undefined : this.#free.get(best)!.pop();
  }

  /**
   * Returns `buffer` to the pool. Releasing a buffer twice throws.
   *
   * @internal
   */
  release(buffer: GPUBuffer): void {
    if (!this.#live.delete(buffer)) {
      throw new Error("Cannot release buffer: it is not live in this pool (released twice?)");
    }
    const size = buffer.size;
    this.#liveBytes -= size;
    this.#pooledBytes += size;
    const list = this.#free.get(size);
    if (list) list.push(buffer);
    else this.#free.set(size, [buffer]);
  }

  /** Destroys every pooled (not live) buffer, returning their memory to the driver. */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  get #reservedBytes(): number {
    return this.#liveBytes + this.#pooledBytes;
  }

  /**
   * Starts both high-water marks again from the current live and reserved bytes, as
   * `torch.cuda.reset_peak_memory_stats()` does; call it before the work to be measured.
   */
  resetPeak(): void {
    this.#peakLiveBytes = this.#liveBytes;
    this.#peakReservedBytes = this.#reservedBytes;
  }

  /** Current byte counts and high-water marks. */
  stats(): PoolStats {
    return {
      liveBytes: this.#liveBytes,
      pooledBytes: this.#pooledBytes,
      reservedBytes: this.#reservedBytes,
      peakLiveBytes: this.#peakLiveBytes,
      peakReservedBytes: this.#peakReservedBytes,
      created: this.#created,
    };
  }
}
