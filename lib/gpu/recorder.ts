/**
 * Records many dispatches into one command encoder and one compute pass, and submits them
 * together. Uniform values for every dispatch of a batch live in one arena buffer that is
 * uploaded once, just before the submit. Reading back flushes first, so results are ordered.
 *
 * @module
 */

import type { BindingSpec, Kernel, Params, UniformType } from "../../kernels/kernel.ts";
import { DeviceFaults, FAULT_BINDING, FAULT_BYTES } from "./faults.ts";
import { DeviceHealth } from "./health.ts";
import type { PipelineCache } from "./pipeline_cache.ts";
import { type KernelTiming, Profiler } from "./profiler.ts";

/** A storage binding: a whole buffer, or a byte range of one. */
export type BufferRef = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

const ARENA_BYTES = 1 << 20;

/**
 * Counters for benchmarks: work recorded and submitted since the recorder was made. The
 * difference of two snapshots ({@linkcode statsSince}) gives one step's counts.
 */
export interface RecorderStats {
  /** Kernel dispatches recorded (empty grids are skipped and not counted). */
  dispatches: number;
  /** Command buffers submitted to the queue. */
  submits: number;
  /** Waits for the GPU to copy data back to the CPU (each costs a fixed latency). */
  readbacks: number;
  /** Every wait for the device: readbacks, `Gpu.sync()` and profile collection. */
  syncs: number;
  /** Bytes uploaded with `write` (tensor data; the uniform arena is counted apart). */
  uploadBytes: number;
  /** Bytes of uniforms uploaded with the submits. */
  uniformBytes: number;
  /** Bytes read back to the CPU. */
  readbackBytes: number;
  /** Milliseconds spent waiting for the device; the rest of a step's wall time is host time. */
  waitMs: number;
}

/** The counts of `now` minus those of `before` (two snapshots of {@linkcode Recorder.stats}). */
export function statsSince(before: RecorderStats, now: RecorderStats): RecorderStats {
  const out = { ...now };
  for (const k of Object.keys(out) as (keyof RecorderStats)[]) out[k] = now[k] - before[k];
  return out;
}

/**
 * The command recorder of one device ({@linkcode Gpu.recorder}): ops record their dispatches
 * here and nothing runs until a flush, a readback or `Gpu.sync()` submits them. For users it is
 * the kernel profiler: `startProfile()`, run the ops, `stopProfile()`.
 *
 * @example Time every kernel of one forward
 * ```ts ignore
 * gpu.recorder.startProfile();
 * model.forward(batch);
 * const timings = await gpu.recorder.stopProfile();
 * console.log(formatSummary(summarizeTimings(timings)));
 * ```
 */
export class Recorder {
  readonly #device: GPUDevice;
  readonly #pipelines: PipelineCache;
  readonly #align: number;
  readonly #arena: GPUBuffer;
  readonly #arenaData = new ArrayBuffer(ARENA_BYTES);
  readonly #arenaView = new DataView(this.#arenaData);
  #arenaUsed = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #staging: GPUBuffer[] = [];
  #profiler: Profiler | null = null;
  /** Work recorded and submitted so far; the counters only grow. */
  readonly stats: RecorderStats = {
    dispatches: 0,
    submits: 0,
    readbacks: 0,
    syncs: 0,
    uploadBytes: 0,
    uniformBytes: 0,
    readbackBytes: 0,
    waitMs: 0,
  };
  /**
   * Device-side fault flags, bound to every kernel that declares `fault` (`faults.ts`).
   *
   * @internal
   */
  readonly faults: DeviceFaults;
  /**
   * Device loss and uncaptured errors (`health.ts`).
   *
   * @internal
   */
  readonly health: DeviceHealth;

  /**
   * Made by {@linkcode Gpu}'s constructor, one per device.
   *
   * @internal
   */
  constructor(device: GPUDevice, pipelines: PipelineCache) {
    this.#device = device;
    this.#pipelines = pipelines;
    this.faults = new DeviceFaults(device);
    this.health = new DeviceHealth(device);
    this.#align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
    this.#arena = device.createBuffer({
      label: "uniform_arena",
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  #encoderOpen(): GPUCommandEncoder {
    return (this.#encoder ??= this.#device.createCommandEncoder());
  }

  #passOpen(): GPUComputePassEncoder {
    return (this.#pass ??= this.#encoderOpen().beginComputePass());
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /**
   * Records one dispatch of `kernel` with storage `buffers` (by binding name) and uniform
   * `params`. Nothing runs until `flush` (or a readback) submits.
   *
   * @internal
   */
  dispatch<
    U extends Record<string, UniformType>,
    B extends Record<string, BindingSpec>,
    O extends Record<string, number>,
  >(
    kernel: Kernel<U, B, O>,
    buffers: Record<string, BufferRef>,
    params: Params<U>,
    overrides?: Partial<O>,
  ): void {
    const ov = (overrides ? { ...kernel.overrides, ...overrides } : kernel.overrides) as O;
    this.health.assertAlive();
    const [gx, gy, gz] = kernel.grid(params, ov);
    if (gx === 0 || gy === 0 || gz === 0) return;
    const { pipeline, layout } = this.#pipelines.get(kernel, ov);
    if (this.#profiler?.full) this.flush(); // before this dispatch's uniforms enter the arena
    const entries: GPUBindGroupEntry[] = [];
    let slot = 0;
    if (kernel.uniformNames.length > 0) {
      const size = Math.ceil((kernel.uniformNames.length * 4) / 16) * 16;
      if (this.#arenaUsed + size > ARENA_BYTES) this.flush();
      const offset = this.#arenaUsed;
      kernel.uniformNames.forEach((name, i) => {
        const value = params[name];
        if (value === undefined || Number.isNaN(value)) {
          throw new TypeError(`Cannot run "${kernel.name}": uniform "${name}" is ${value}`);
        }
        const at = offset + 4 * i;
        const type = kernel.uniformTypes[i];
        if (type === "f32") this.#arenaView.setFloat32(at, value, true);
        else if (type === "i32") this.#arenaView.setInt32(at, value, true);
        else this.#arenaView.setUint32(at, value, true);
      });
      this.#arenaUsed = Math.ceil((offset + size) / this.#align) * this.#align;
      entries.push({ binding: slot++, resource: { buffer: this.#arena, offset, size } });
    }
    for (const name of kernel.bindingNames) {
      const ref = buffers[name] ?? (name === FAULT_BINDING ? this.faults.buffer : undefined);
      if (!ref) throw new TypeError(`Cannot run "${kernel.name}": binding "${name}" is missing`);
      const resource = "buffer" in ref && !(ref instanceof GPUBuffer)
        ? { buffer: ref.buffer, offset: ref.offset ?? 0, size: ref.size }
        : { buffer: ref as GPUBuffer };
      entries.push({ binding: slot++, resource });
    }
    const group = this.#device.createBindGroup({ layout, entries });
    if (this.#profiler) {
      // A pass of its own, stamped at both ends.
      this.#endPass();
      const timestampWrites = this.#profiler.next(kernel.name, [gx, gy, gz]);
      this.#pass = this.#encoderOpen().beginComputePass({ timestampWrites });
    }
    const pass = this.#passOpen();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(gx, gy, gz);
    if (this.#profiler) this.#endPass();
    this.stats.dispatches++;
  }

  /**
   * Records a buffer-to-buffer copy, ordered with the dispatches around it.
   *
   * @internal
   */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.#endPass();
    this.#encoderOpen().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Uploads `data` into `buffer` at `offset`, after everything recorded so far.
   *
   * @internal
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    if (this.#encoder) this.flush();
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    this.stats.uploadBytes += bytes.byteLength;
    if (bytes.byteLength % 4 === 0) {
      this.#device.queue.writeBuffer(buffer, offset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.#device.queue.writeBuffer(buffer, offset, padded);
    }
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.#encoder) return;
    this.#endPass();
    this.#profiler?.resolve(this.#encoder);
    if (this.#arenaUsed > 0) {
      this.#device.queue.writeBuffer(this.#arena, 0, this.#arenaData, 0, this.#arenaUsed);
      this.stats.uniformBytes += this.#arenaUsed;
      this.#arenaUsed = 0;
    }
    this.#device.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
    this.stats.submits++;
  }

  /**
   * Starts timing every dispatch recorded from now on, each in a compute pass of its own whose
   * start and end the GPU stamps; needs the device's `timestamp-query` feature
   * ({@linkcode Gpu.hasTimestamps}).
   *
   * @throws {Error} when the device lacks `timestamp-query` or a profile is already running.
   */
  startProfile(): void {
    if (this.#profiler) throw new Error("Cannot start a kernel profile: one is already running");
    this.flush();
    this.#profiler = new Profiler(this.#device);
  }

  /** Ends the profile: submits what is recorded, waits for it, and returns each dispatch's time. */
  async stopProfile(): Promise<KernelTiming[]> {
    const profiler = this.#profiler;
    if (!profiler) throw new Error("Cannot stop the kernel profile: none is running");
    this.flush();
    this.#profiler = null;
    await this.#pipelines.settle();
    return await this.waitFor(profiler.collect());
  }

  /**
   * Awaits `done`, a wait for the device, counting it in {@linkcode RecorderStats.syncs} and
   * its time in `waitMs`.
   *
   * @internal
   */
  async waitFor<T>(done: Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await done;
    } finally {
      this.stats.syncs++;
      this.stats.waitMs += performance.now() - t0;
    }
  }

  /**
   * Reads `bytes` bytes of `buffer` from `offset` back to the CPU, after all recorded work.
   *
   * @internal
   */
  async read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    return (await this.readMany([{ buffer, bytes, offset }]))[0];
  }

  /**
   * Reads several ranges back with one copy pass, one submit and one wait: each wait for the
   * device costs a fixed latency (about 11 ms in Deno on lavapipe), whatever the bytes. The
   * fault flags travel in the same copy, and the device's health is checked on the way.
   *
   * @throws {RangeError} when a kernel flagged a bad index or value (`faults.ts`)
   * @throws {GpuDeviceLostError}, {GpuMemoryError} or {GpuDeviceError} (`health.ts`)
   *
   * @internal
   */
  async readMany(
    requested: readonly { buffer: GPUBuffer; bytes: number; offset?: number }[],
  ): Promise<ArrayBuffer[]> {
    this.health.assertAlive();
    const parts = [...requested, { buffer: this.faults.buffer, bytes: FAULT_BYTES }];
    const sizes = parts.map((p) => Math.max(4, Math.ceil(p.bytes / 4) * 4));
    const starts: number[] = [];
    let size = 0;
    for (const n of sizes) {
      starts.push(size);
      size += n;
    }
    size = Math.max(4, size);
    const index = this.#staging.findIndex((b) => b.size >= size && b.size <= 4 * size);
    const staging = index >= 0 ? this.#staging.splice(index, 1)[0] : this.#device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#endPass();
    const encoder = this.#encoderOpen();
    parts.forEach((p, i) =>
      encoder.copyBufferToBuffer(p.buffer, p.offset ?? 0, staging, starts[i], sizes[i])
    );
    this.flush();
    await this.#pipelines.settle();
    this.stats.readbacks++;
    this.stats.readbackBytes += size;
    await this.waitFor(this.health.unlessLost(staging.mapAsync(GPUMapMode.READ, 0, size)));
    const mapped = staging.getMappedRange(0, size);
    const out = parts.map((p, i) => mapped.slice(starts[i], starts[i] + p.bytes));
    staging.unmap();
    if (this.#staging.length < 8) this.#staging.push(staging);
    else staging.destroy();
    this.health.check();
    this.faults.check(new Uint32Array(out.pop()!));
    return out;
  }
}
