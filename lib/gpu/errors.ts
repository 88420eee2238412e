/**
 * Errors raised by the GPU runtime.
 *
 * @module
 */

/**
 * No WebGPU adapter or device could be acquired. The message names the fix.
 *
 * @example Fall back when there is no GPU
 * ```ts ignore
 * try {
 *   gpu = await requestGpu({ requiredFeatures: ["shader-f16"] });
 * } catch (e) {
 *   if (!(e instanceof GpuUnavailableError)) throw e;
 *   gpu = await requestGpu();
 * }
 * ```
 */
export class GpuUnavailableError extends Error {
  /**
   * Makes the error; {@linkcode requestGpu} throws it.
   *
   * @param message The one-line reason, ending with what to install or pass to fix it.
   */
  constructor(message: string) {
    super(message);
    this.name = "GpuUnavailableError";
  }
}

/** A WGSL kernel failed to compile; names the kernel and the WGSL `line:col`. */
export class KernelCompileError extends Error {
  /** The kernel's name, as given to `defineKernel`. */
  readonly kernel: string;
  /** 1-based line in the generated WGSL source, or 0 when unknown. */
  readonly line: number;
  /** 1-based column, or 0 when unknown. */
  readonly column: number;

  /**
   * Makes the error from the first message the WGSL compiler reports; it surfaces at the next
   * `Gpu.sync()` or readback after the kernel's first use.
   *
   * @param kernel The kernel's name.
   * @param line 1-based line in the kernel's WGSL body, or 0 when unknown.
   * @param column 1-based column, or 0 when unknown.
   * @param detail The compiler's message.
   */
  constructor(kernel: string, line: number, column: number, detail: string) {
    super(`Cannot compile kernel "${kernel}": ${detail} at line ${line}:${column}`);
    this.name = "KernelCompileError";
    this.kernel = kernel;
    this.line = line;
    this.column = column;
  }
}

/** What to lower when a buffer or the device's memory is too small for a run. */
export const LOWER_SIZES_FIX = "lower --per_device_train_batch_size (and " +
  "--per_device_eval_batch_size) or --max_seq_length";

/**
 * The GPU cannot hold what was asked: a buffer over the adapter's `maxBufferSize` or
 * `maxStorageBufferBindingSize`, or device memory exhausted. The message gives the size, the
 * limit and what to lower.
 */
export class GpuMemoryError extends Error {
  /** Makes the error. @param message the one-line message: size asked, limit, what to lower */
  constructor(message: string) {
    super(message);
    this.name = "GpuMemoryError";
  }
}

/** The device was lost (driver reset, GPU removed, or destroyed): the run cannot go on. */
export class GpuDeviceLostError extends Error {
  /** `GPUDeviceLostInfo.reason`: `"destroyed"` or `"unknown"`. */
  readonly reason: string;

  /** Makes the error. @param reason `GPUDeviceLostInfo.reason` @param detail its message */
  constructor(reason: string, detail: string) {
    super(
      `Cannot use the GPU: the device was lost (${reason}${detail ? `: ${detail}` : ""}); ` +
        `restart the run, resuming from its last checkpoint`,
    );
    this.name = "GpuDeviceLostError";
    this.reason = reason;
  }
}

/** The device reported an error no error scope caught: the results since then are not valid. */
export class GpuDeviceError extends Error {
  /** Makes the error. @param message one line naming the error the device reported */
  constructor(message: string) {
    super(message);
    this.name = "GpuDeviceError";
  }
}
