import assert from "node:assert/strict";
import { requestGpu } from "./device.ts";
import { bucketSize } from "./buffer_pool.ts";
import { GpuUnavailableError, KernelCompileError } from "./errors.ts";
import { defineKernel } from "../../kernels/kernel.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";

Deno.test("requestGpu() names the fix when there is no adapter", async () => {
  const none = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
  await assert.rejects(
    () => requestGpu({ webgpu: none }),
    (e: unknown) =>
      e instanceof GpuUnavailableError && /no WebGPU adapter/.test(e.message) &&
      /mesa-vulkan-drivers/.test(e.message),
  );
  await assert.rejects(() => requestGpu({ webgpu: null }), /WebGPU is not available/);
});

Deno.test("bucketSize() wastes at most 12.5% and never shrinks", () => {
  for (const n of [1, 4, 255, 256, 257, 1000, 4096, 4097, 123457, 9437184]) {
    const b = bucketSize(n);
    assert.ok(b >= n, `${n} → ${b}`);
    assert.ok(b <= Math.max(256, n * 1.125 + 4), `${n} → ${b}`);
    assert.equal(b % 4, 0);
  }
});

gpuTest("the adapter reports its name and fallback flag", (gpu) => {
  assert.ok(gpu.adapter.description.length > 0);
  assert.equal(typeof gpu.adapter.isFallbackAdapter, "boolean");
  assert.ok(gpu.limits.maxStorageBuffersPerShaderStage >= 8);
});

gpuTest("a WGSL error surfaces as KernelCompileError with kernel name and line", async (gpu) => {
  const broken = defineKernel({
    name: "broken_kernel",
    bindings: { out: "write" },
    uniforms: { n: "u32" },
    grid: () => [1, 1, 1],
    wgsl: `@compute @workgroup_size(1)
fn main() {
  out[0] = 1.0 + ;
}`,
  });
  await assert.rejects(
    () => gpu.pipelines.check(broken),
    (e: unknown) =>
      e instanceof KernelCompileError && e.kernel === "broken_kernel" && e.line === 3 &&
      /broken_kernel/.test(e.message) && /line 3:/.test(e.message),
  );
});

gpuTest("released buffers are reused from the pool", (gpu) => {
  const a = gpu.pool.acquire(10_000);
  const created = gpu.pool.stats().created;
  gpu.pool.release(a);
  const b = gpu.pool.acquire(9_999);
  assert.equal(b, a);
  assert.equal(gpu.pool.stats().created, created);
  gpu.pool.release(b);
  assert.throws(() => gpu.pool.release(b), /released twice/);
});
