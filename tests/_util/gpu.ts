/**
 * The GPU gate for tests: one shared device per test process, acquired lazily. Without an
 * adapter, GPU tests are skipped with a visible message, unless `CAMTL_REQUIRE_GPU=1` (CI sets
 * it), in which case they fail.
 *
 * @module
 */

import { type Gpu, requestGpu } from "../../lib/gpu/device.ts";
import type { RowKernels } from "../../lib/gpu/kernel_choice.ts";
import { beginScope, releaseTemporaries } from "../../lib/autograd/scope.ts";

let shared: Promise<Gpu | null> | null = null;
let announced = false;

/** The shared test device, or null when there is no adapter (and it is not required). */
export function testGpu(): Promise<Gpu | null> {
  shared ??= requestGpu().then((gpu) => {
    if (!announced) {
      announced = true;
      console.log(
        `GPU tests run on "${gpu.adapter.description}"` +
          (gpu.adapter.isFallbackAdapter ? " (fallback adapter)" : ""),
      );
    }
    return gpu;
  }, (e) => {
    if (Deno.env.get("CAMTL_REQUIRE_GPU") === "1") throw e;
    console.warn(`SKIP: GPU tests skipped: ${(e as Error).message}`);
    return null;
  });
  return shared;
}

/** Registers a test that gets the shared GPU; temporaries are released when it ends. */
export function gpuTest(name: string, fn: (gpu: Gpu) => Promise<void> | void): void {
  registerGpuTest(name, fn, true);
}

/**
 * A GPU test that runs outside any scope, as a script or notebook does; tensors it leaves
 * loose are released when it ends.
 */
export function gpuTestUnscoped(name: string, fn: (gpu: Gpu) => Promise<void> | void): void {
  registerGpuTest(name, fn, false);
}

function registerGpuTest(
  name: string,
  fn: (gpu: Gpu) => Promise<void> | void,
  scoped: boolean,
): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const gpu = await testGpu();
      if (!gpu) {
        console.warn(`SKIP: "${t.name}" needs a GPU`);
        return;
      }
      const scope = scoped ? beginScope(gpu) : null;
      try {
        await fn(gpu);
      } finally {
        scope?.end();
        if (!scoped) releaseTemporaries(gpu);
      }
    },
  });
}

/** Both ways of running row kernels, for tests that must cover each. */
export const ROW_KERNELS: readonly RowKernels[] = ["workgroup", "lanes"];

/** Registers one {@linkcode gpuTest} per row-kernel mode, named `name [mode rows]`. */
export function gpuTestRows(name: string, fn: (gpu: Gpu) => Promise<void> | void): void {
  for (const mode of ROW_KERNELS) {
    gpuTest(`${name} [${mode} rows]`, async (gpu) => {
      const before = gpu.rowKernels;
      gpu.rowKernels = mode;
      try {
        await fn(gpu);
      } finally {
        gpu.rowKernels = before;
      }
    });
  }
}
