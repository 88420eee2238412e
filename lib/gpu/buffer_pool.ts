/**
 * A size-bucketed pool of storage buffers. GPU memory is not garbage-collected in useful time,
 * so every buffer has an owner: tensors take buffers from the pool and give them back when they
 * are released, and the pool reuses them for later requests of the same size class.
 *
 * Size classes keep 3 significant bits (at most 12.5% waste): 1024, 1152, 1280, … bytes.
 *
 * @module
 */

const MIN_BYTES = 256;

/** The size class that `bytes` is rounded up to. */
export function bucketSize(bytes: number): number {
  const n = Math.max(MIN_BYTES, Math.ceil(bytes / 4) * 4);
  const step = 2 ** Math.max(Math.floor(Math.log2(n)) - 3, 2);
  return Math.ceil(n / step) * step;
}

/** Byte counts the pool reports; `liveBytes` must return to its start after each step. */
export interface PoolStats {
  /** Bytes in buffers currently handed out. */
  liveBytes: number;
  /** Bytes in buffers waiting in the pool. */
  pooledBytes: number;
  /** Buffers created since the pool was made. */
  created: number;
}

/** Storage buffers bucketed by size class. */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly #live = new Set<GPUBuffer>();
  #liveBytes = 0;
  #pooledBytes = 0;
  #created = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** A buffer of at least `bytes` bytes usable as storage, copy source and copy destination. */
  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.#free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.#pooledBytes -= size;
    } else {
      buffer = this.#device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.#created++;
    }
    this.#live.add(buffer);
    this.#liveBytes += size;
    return buffer;
  }

  /** Returns `buffer` to the pool. Releasing a buffer twice throws. */
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

  /** Current byte counts. */
  stats(): PoolStats {
    return { liveBytes: this.#liveBytes, pooledBytes: this.#pooledBytes, created: this.#created };
  }
}
