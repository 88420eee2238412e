/**
 * The WebGPU device: adapter acquisition with the adapter's real limits, adapter reporting,
 * and the `Gpu` object that owns the buffer pool, the pipeline cache and the command recorder.
 *
 * There is no global device: every tensor holds the `Gpu` it lives on.
 *
 * @module
 */

import { BufferPool } from "./buffer_pool.ts";
import { GpuUnavailableError } from "./errors.ts";
import { defaultRowKernels, type RowKernels } from "./kernel_choice.ts";
import { PipelineCache } from "./pipeline_cache.ts";
import { Recorder } from "./recorder.ts";

/** What the adapter says about itself. */
export interface AdapterReport {
  /** Human-readable adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** The adapter's vendor as WebGPU's `GPUAdapterInfo` reports it (may be empty). */
  vendor: string;
  /** The adapter's architecture family as `GPUAdapterInfo` reports it (may be empty). */
  architecture: string;
  /** True for software or fallback adapters (lavapipe, llvmpipe, SwiftShader). */
  isFallbackAdapter: boolean;
  /** Every WebGPU feature the adapter offers, sorted (not only the ones the device enabled). */
  features: string[];
}

/** Options for {@linkcode requestGpu}. */
export interface GpuOptions {
  /** Passed to `requestAdapter`: `"high-performance"` or `"low-power"` (default: unset). */
  powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter, as `--no_cuda` does. */
  forceFallbackAdapter?: boolean;
  /** Features the caller needs, e.g. `["shader-f16"]`; missing ones throw. */
  requiredFeatures?: GPUFeatureName[];
  /**
   * Features enabled when the adapter has them and skipped otherwise. Default
   * {@linkcode OPTIONAL_FEATURES}: `shader-f16` (for `--fp16`) and `timestamp-query` (for the
   * kernel profiler).
   */
  optionalFeatures?: GPUFeatureName[];
  /** How row kernels run; default {@linkcode defaultRowKernels} of the adapter. */
  rowKernels?: RowKernels;
  /** The WebGPU entry point; defaults to `navigator.gpu` (tests pass their own). */
  webgpu?: GPU | null;
}

const FIX = "install a WebGPU driver: on Debian `apt-get install mesa-vulkan-drivers` gives the " +
  "lavapipe software adapter; run with --allow-all (or --unstable-webgpu on older Deno)";

/** Features {@linkcode requestGpu} enables by default wherever the adapter offers them. */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ["shader-f16", "timestamp-query"];

/** The limits camtl asks for: the adapter's own values, not WebGPU's conservative defaults. */
const LIMITS = [
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
] as const;

/**
 * Acquires an adapter and a device with the adapter's real limits.
 *
 * @throws {GpuUnavailableError} when WebGPU, an adapter or a required feature is missing.
 * @example Report the adapter
 * ```ts ignore
 * const gpu = await requestGpu();
 * console.log(gpu.adapter.description, gpu.adapter.isFallbackAdapter);
 * gpu.destroy();
 * ```
 */
export async function requestGpu(options: GpuOptions = {}): Promise<Gpu> {
  const webgpu = "webgpu" in options
    ? options.webgpu
    : (typeof navigator !== "undefined" ? navigator.gpu : undefined);
  if (!webgpu) {
    throw new GpuUnavailableError(`Cannot acquire a GPU: WebGPU is not available; ${FIX}`);
  }
  const adapter = await webgpu.requestAdapter({
    powerPreference: options.powerPreference,
    forceFallbackAdapter: options.forceFallbackAdapter,
  });
  if (!adapter) {
    throw new GpuUnavailableError(`Cannot acquire a GPU: no WebGPU adapter was found; ${FIX}`);
  }
  const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length > 0) {
    throw new GpuUnavailableError(
      `Cannot acquire a GPU: adapter "${adapter.info.description}" lacks feature(s) ` +
        `${missing.map((f) => `"${f}"`).join(", ")}`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) requiredLimits[k] = adapter.limits[k];
  const features = new Set(options.requiredFeatures ?? []);
  for (const f of options.optionalFeatures ?? OPTIONAL_FEATURES) {
    if (adapter.features.has(f)) features.add(f);
  }
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: [...features] });
  const info = adapter.info;
  const report: AdapterReport = {
    description: info.description || info.device || info.vendor || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    // Deno reports the flag on the info object; older builds on the adapter.
    isFallbackAdapter: Boolean(
      (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].sort(),
  };
  const gpu = new Gpu(device, report);
  gpu.rowKernels = options.rowKernels ?? defaultRowKernels(report);
  return gpu;
}

/**
 * A WebGPU device with its buffer pool, pipeline cache and command recorder; every tensor holds
 * the `Gpu` it lives on. Get one from {@linkcode requestGpu}.
 *
 * @example Memory counters and a sync point
 * ```ts ignore
 * const gpu = await requestGpu();
 * console.log(gpu.adapter.description, gpu.hasF16, gpu.hasTimestamps);
 * const y = matmul({ a, b });
 * await gpu.sync(); // all recorded work has finished
 * console.log(gpu.pool.stats().liveBytes);
 * gpu.destroy();
 * ```
 */
export class Gpu {
  /** The WebGPU device every buffer and pipeline of this `Gpu` belongs to. */
  readonly device: GPUDevice;
  /** What the adapter reported when the device was requested. */
  readonly adapter: AdapterReport;
  /**
   * The storage-buffer pool tensors draw from; its `stats()` are the memory counters
   * (`torch.cuda.memory_allocated` and friends).
   */
  readonly pool: BufferPool;
  /**
   * Compiled compute pipelines, by kernel and overrides; used by kernel dispatch only.
   *
   * @internal
   */
  readonly pipelines: PipelineCache;
  /**
   * Records and submits the device's work; `startProfile()`/`stopProfile()` time each kernel.
   */
  readonly recorder: Recorder;
  /** How row kernels run (see {@linkcode RowKernels}); benchmarks and tests may switch it. */
  rowKernels: RowKernels = "workgroup";

  /**
   * Wraps a device that is already acquired; most code calls {@linkcode requestGpu} instead,
   * which also chooses {@linkcode Gpu.rowKernels} for the adapter.
   *
   * @param device The WebGPU device; `destroy()` destroys it.
   * @param adapter What {@linkcode Gpu.adapter} reports.
   */
  constructor(device: GPUDevice, adapter: AdapterReport) {
    this.device = device;
    this.adapter = adapter;
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.recorder = new Recorder(device, this.pipelines);
  }

  /** The device's limits (the adapter's real values). */
  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** True once the device has been lost or destroyed. */
  get lost(): boolean {
    return this.recorder.health.lost;
  }

  /** Whether the device can time passes (`timestamp-query`), which the profiler needs. */
  get hasTimestamps(): boolean {
    return this.device.features.has("timestamp-query");
  }

  /** Whether the device can run f16 kernels. */
  get hasF16(): boolean {
    return this.device.features.has("shader-f16");
  }

  /**
   * Submits recorded work and waits until the GPU has finished it.
   *
   * @throws {GpuDeviceLostError} when the device is lost before or while waiting
   */
  async sync(): Promise<void> {
    this.recorder.flush();
    await this.pipelines.settle();
    await this.recorder.waitFor(
      this.recorder.health.unlessLost(this.device.queue.onSubmittedWorkDone()),
    );
  }

  /** Releases the device and every buffer it owns. */
  destroy(): void {
    this.recorder.flush();
    this.pool.trim();
    this.device.destroy();
  }
}
