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
