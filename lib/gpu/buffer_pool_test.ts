import assert from "node:assert/strict";
import { bucketSize, BufferPool } from "./buffer_pool.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";

/** A device that only makes buffers, so the pool's accounting runs without an adapter. */
function fakeDevice(): { device: GPUDevice; destroyed: () => number } {
  let destroyed = 0;
  const device = {
    createBuffer: ({ size }: GPUBufferDescriptor) => ({ size, destroy: () => destroyed++ }),
  } as unknown as GPUDevice;
  return { device, destroyed: () => destroyed };
}

const KB = bucketSize(1000), MB = bucketSize(1_000_000);

Deno.test("BufferPool keeps the peak of live bytes after they are released", () => {
  const pool = new BufferPool(fakeDevice().device);
  const a = pool.acquire(1000), b = pool.acquire(1_000_000);
  pool.release(b);
  const c = pool.acquire(1000);
  const s = pool.stats();
  assert.equal(s.liveBytes, 2 * KB);
  assert.equal(s.peakLiveBytes, KB + MB);
  assert.equal(s.reservedBytes, 2 * KB + MB);
  assert.equal(s.peakReservedBytes, 2 * KB + MB);
  pool.release(a);
  pool.release(c);
  assert.equal(pool.stats().liveBytes, 0);
  assert.equal(pool.stats().peakLiveBytes, KB + MB);
});

Deno.test("BufferPool.resetPeak() restarts both peaks from the current bytes", () => {
  const pool = new BufferPool(fakeDevice().device);
  const big = pool.acquire(1_000_000);
  const small = pool.acquire(1000);
  pool.release(big);
  pool.resetPeak();
  let s = pool.stats();
  assert.equal(s.peakLiveBytes, KB);
  assert.equal(s.peakReservedBytes, KB + MB);
  // A reused buffer raises the live peak but not the reserved one.
  const again = pool.acquire(999_999);
  s = pool.stats();
  assert.equal(s.peakLiveBytes, KB + MB);
  assert.equal(s.peakReservedBytes, KB + MB);
  assert.equal(s.created, 2);
  pool.release(again);
  pool.release(small);
  pool.resetPeak();
  assert.equal(pool.stats().peakLiveBytes, 0);
});

Deno.test("BufferPool.trim() lowers reserved bytes but keeps their peak", () => {
  const { device, destroyed } = fakeDevice();
  const pool = new BufferPool(device);
  const a = pool.acquire(1_000_000);
  pool.release(a);
  pool.trim();
  const s = pool.stats();
  assert.equal(destroyed(), 1);
  assert.equal(s.reservedBytes, 0);
  assert.equal(s.peakReservedBytes, MB);
  pool.resetPeak();
  assert.equal(pool.stats().peakReservedBytes, 0);
  // After a trim the next request creates a buffer again, which the reserved peak sees.
  pool.acquire(1000);
  assert.equal(pool.stats().peakReservedBytes, KB);
  assert.equal(pool.stats().created, 2);
});

Deno.test("BufferPool serves a request from the smallest free buffer up to twice its class", () => {
  const pool = new BufferPool(fakeDevice().device);
  const big = pool.acquire(10_000), mid = pool.acquire(8192);
  pool.release(big);
  pool.release(mid);
  const got = pool.acquire(5000);
  assert.equal(got, mid);
  assert.equal(pool.stats().liveBytes, mid.size);
  assert.equal(pool.stats().pooledBytes, big.size);
  assert.equal(pool.stats().created, 2);
  // 4096 bytes is a class under half of the free 10240-byte buffer: a new buffer is made.
  const small = pool.acquire(4096);
  assert.notEqual(small, big);
  assert.equal(small.size, 4096);
  assert.equal(pool.stats().created, 3);
  pool.release(got);
  pool.release(small);
  assert.equal(pool.stats().liveBytes, 0);
  assert.equal(pool.stats().reservedBytes, big.size + mid.size + 4096);
});

Deno.test("BufferPool.acquire() rejects sizes that are negative or not finite", () => {
  const pool = new BufferPool(fakeDevice().device);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => pool.acquire(bad),
      (e: unknown) => e instanceof RangeError && /^Cannot acquire buffer: size is/.test(e.message),
    );
  }
  assert.equal(pool.stats().created, 0);
});

gpuTest("the device pool's live peak covers a tensor freed before it is read", (gpu) => {
  gpu.pool.resetPeak();
  const start = gpu.pool.stats();
  const bytes = 3_000_000;
  const buffer = gpu.pool.acquire(bytes);
  gpu.pool.release(buffer);
  const s = gpu.pool.stats();
  assert.equal(s.liveBytes, start.liveBytes);
  assert.equal(s.peakLiveBytes, start.liveBytes + bucketSize(bytes));
  assert.ok(s.peakReservedBytes >= s.reservedBytes);
});

Deno.test("BufferPool refuses a buffer over the binding limit and caps size classes at it", () => {
  const limits = { maxStorageBufferBindingSize: 1_000_000, maxBufferSize: 1 << 30 };
  const device = {
    limits,
    createBuffer: ({ size }: GPUBufferDescriptor) => ({ size, destroy: () => {} }),
  } as unknown as GPUDevice;
  const pool = new BufferPool(device);
  assert.throws(
    () => pool.acquire(1_000_004),
    /^GpuMemoryError: Cannot allocate a GPU buffer of 1,000,004 bytes \(1\.0 MiB\): the adapter's maxStorageBufferBindingSize is 1,000,000 bytes/,
  );
  // 999,000 bytes rounds to a class above the limit: the buffer is made at the limit instead.
  assert.ok(bucketSize(999_000) > 1_000_000);
  assert.equal(pool.acquire(999_000).size, 1_000_000);
  assert.equal(pool.stats().liveBytes, 1_000_000);
});
