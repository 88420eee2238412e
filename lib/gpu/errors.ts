/**
 * Errors raised by the GPU runtime.
 *
 * @module
 */

/** No WebGPU adapter or device could be acquired. The message names the fix. */
export class GpuUnavailableError extends Error {
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
  constructor(message: string) {
    super(message);
    this.name = "GpuMemoryError";
  }
}

/** The device was lost (driver reset, GPU removed, or destroyed): the run cannot go on. */
export class GpuDeviceLostError extends Error {
  /** `GPUDeviceLostInfo.reason`: `"destroyed"` or `"unknown"`. */
  readonly reason: string;

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
  constructor(message: string) {
    super(message);
    this.name = "GpuDeviceError";
  }
}
