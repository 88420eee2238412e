/**
 * Compiles kernels once per device and override set. WGSL compile errors surface as
 * `KernelCompileError` with the kernel's name and the line in its body.
 *
 * @module
 */

import type { CompilableKernel } from "../../kernels/kernel.ts";
import { KernelCompileError } from "./errors.ts";

/** A compiled kernel: its pipeline and bind group layout. */
export interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Pipelines keyed by kernel name and override values. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #cache = new Map<string, CompiledKernel>();
  readonly #checked = new Set<string>();
  #pending: Promise<void>[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Number of compiled pipelines. */
  get size(): number {
    return this.#cache.size;
  }

  /**
   * The compiled pipeline for `kernel` with `overrides`; compiles and checks it on first use.
   * Call `check` once before first use to get compile errors as `KernelCompileError`.
   */
  get(kernel: CompilableKernel, overrides: Record<string, number>): CompiledKernel {
    const key = kernel.name + JSON.stringify(overrides);
    let hit = this.#cache.get(key);
    if (hit) return hit;
    const module = this.#device.createShaderModule({ label: kernel.name, code: kernel.source });
    const entries: GPUBindGroupLayoutEntry[] = [];
    let slot = 0;
    if (kernel.uniformNames.length > 0) {
      entries.push({
        binding: slot++,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: "uniform" },
      });
    }
    for (const name of kernel.bindingNames) {
      const spec = kernel.bindings[name];
      const access = typeof spec === "string" ? spec : spec.access;
      entries.push({
        binding: slot++,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: access === "read" ? "read-only-storage" : "storage" },
      });
    }
    const layout = this.#device.createBindGroupLayout({ label: kernel.name, entries });
    const pipeline = this.#device.createComputePipeline({
      label: kernel.name,
      layout: this.#device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main", constants: overrides },
    });
    hit = { pipeline, layout };
    this.#cache.set(key, hit);
    // Compile errors arrive asynchronously; `settle` (called before every readback) rethrows
    // them as KernelCompileError instead of letting the kernel silently do nothing.
    this.#pending.push(this.check(kernel));
    return hit;
  }

  /** Waits for the compile checks of kernels used so far; throws the first error. */
  async settle(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    await Promise.all(pending);
  }

  /** Compiles `kernel`'s WGSL and throws `KernelCompileError` on the first error. */
  async check(kernel: CompilableKernel): Promise<void> {
    if (this.#checked.has(kernel.name)) return;
    this.#device.pushErrorScope("validation");
    const module = this.#device.createShaderModule({ label: kernel.name, code: kernel.source });
    const info = await module.getCompilationInfo();
    const scoped = await this.#device.popErrorScope();
    const error = info.messages.find((m) => m.type === "error");
    if (error) {
      const line = Math.max(0, error.lineNum - kernel.headerLines);
      throw new KernelCompileError(kernel.name, line, error.linePos, firstLine(error.message));
    }
    if (scoped) {
      const m = /:(\d+):(\d+)/.exec(scoped.message);
      const line = m ? Math.max(0, Number(m[1]) - kernel.headerLines) : 0;
      throw new KernelCompileError(
        kernel.name,
        line,
        m ? Number(m[2]) : 0,
        firstLine(scoped.message),
      );
    }
    this.#checked.add(kernel.name);
  }
}

function firstLine(message: string): string {
  return message.split("\n").map((s) => s.trim()).find((s) => s.length > 0) ?? "unknown error";
}
