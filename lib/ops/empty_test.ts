import assert from "node:assert/strict";
import { fromArray } from "../autograd/tensor.ts";
import { accumulateInto, zeros } from "../autograd/accumulate.ts";
import { add, mul } from "./elementwise.ts";
import { gelu } from "./gelu.ts";
import { layerNorm } from "./layer_norm.ts";
import { softmax } from "./softmax.ts";
import { gpuTestRows } from "../../tests/_util/gpu.ts";

// An empty tensor must bind to every kernel an op may pick for it, the vec4 and
// one-row-per-invocation kernels included (a vec4 array needs at least 16 bytes).
gpuTestRows(
  "ops on tensors with no elements run without a WebGPU validation error",
  async (gpu) => {
    const empty = (shape: number[]) => fromArray(gpu, new Float64Array(0), shape);
    gpu.device.pushErrorScope("validation");
    const outs = [
      add({ a: empty([0, 4]), b: empty([0, 4]) }),
      mul({ a: empty([0, 8]), b: empty([0, 8]) }),
      gelu({ x: empty([0, 4]) }),
      softmax({ x: empty([0, 8]) }),
      layerNorm({
        x: empty([0, 8]),
        gain: fromArray(gpu, new Float64Array(8).fill(1), [8]),
        bias: zeros(gpu, [8]),
      }),
    ];
    accumulateInto(zeros(gpu, [0]), empty([0]));
    gpu.recorder.flush();
    const error = await gpu.device.popErrorScope();
    assert.equal(error, null, error?.message);
    assert.deepEqual(outs.map((t) => t.size), [0, 0, 0, 0, 0]);
  },
);
