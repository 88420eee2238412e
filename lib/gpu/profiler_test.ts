import assert from "node:assert/strict";
import { fromArray } from "../autograd/tensor.ts";
import { layerNorm } from "../ops/layer_norm.ts";
import { softmax } from "../ops/softmax.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { byGrid, formatSummary, type KernelTiming, summarizeTimings } from "./profiler.ts";

Deno.test("summarizeTimings() sums by name or by grid, largest first, with shares", () => {
  const t: KernelTiming[] = [
    { name: "a", grid: [1, 1, 1], ms: 1 },
    { name: "b", grid: [2, 1, 1], ms: 5 },
    { name: "a", grid: [4, 1, 1], ms: 2 },
  ];
  const s = summarizeTimings(t);
  assert.deepEqual(s.map((x) => [x.name, x.calls, x.totalMs]), [["b", 1, 5], ["a", 2, 3]]);
  assert.equal(s[0].share, 5 / 8);
  assert.deepEqual(summarizeTimings(t, byGrid).map((x) => x.name), [
    "b 2x1x1",
    "a 4x1x1",
    "a 1x1x1",
  ]);
  const table = formatSummary(s).split("\n");
  assert.equal(table.length, 3);
  assert.match(table[1], /^b\s+1\s+5\.00\s+62\.5%$/);
});

gpuTest("the profiler times every dispatch and shows which row kernels ran", async (gpu) => {
  if (!gpu.hasTimestamps) {
    console.warn("SKIP: the adapter has no timestamp-query");
    return;
  }
  const before = gpu.rowKernels;
  try {
    const x = fromArray(gpu, new Float32Array(2 * 3 * 8 * 8).map((_, i) => Math.sin(i)), [
      2,
      3,
      8,
      8,
    ]);
    const c = fromArray(gpu, new Float32Array(5 * 12).fill(1), [5, 12]);
    const g = fromArray(gpu, new Float32Array(12).fill(1), [12]);
    const names = async () => {
      gpu.recorder.startProfile();
      softmax({ x });
      layerNorm({ x: c, gain: g, bias: g });
      const t = await gpu.recorder.stopProfile();
      assert.ok(t.every((d) => d.ms >= 0 && Number.isFinite(d.ms)));
      return t.map((d) => d.name);
    };
    gpu.rowKernels = "lanes";
    assert.deepEqual(await names(), ["softmax_forward_lanes", "layer_norm_forward_lanes"]);
    gpu.rowKernels = "workgroup";
    assert.deepEqual(await names(), ["softmax_forward", "layer_norm_forward"]);
    await assert.rejects(() => gpu.recorder.stopProfile(), /none is running/);
  } finally {
    gpu.rowKernels = before;
  }
});
