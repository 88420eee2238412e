/**
 * `deno task bench:matmul-variants`: the register-tiling experiments behind `matmul_nt`'s 16×16
 * block, reproducible. One template generates `c = a · bᵀ` kernels in which every invocation
 * computes `4R` rows by `4S` columns of `c` (R·S `mat4x4f` accumulators); the variants run
 * interleaved with the template's own 16×16 (R = S = 4) and with the production `matmul_nt`, and
 * each is timed by timestamp queries (median device time of `--reps`).
 *
 * `--uniform-b` adds the diagnostic variant whose loads of `b` are the same for every lane of a
 * workgroup row (its results are wrong; only its time matters): if it were much faster, per-lane
 * loads would be the bottleneck.
 *
 * Run: `deno task bench:matmul-variants [--reps 9] [--uniform-b]`. The template has no edge
 * handling: where a block does not divide M (24 and 48 rows into 1024), the last invocations
 * read and write past the ends, which WebGPU's bounds checks make harmless; only times count.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { defineKernel, type Kernel } from "../kernels/kernel.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { empty, fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { gemm } from "../lib/ops/gemm.ts";
import { Rng } from "../tests/_util/rng.ts";
import { loadAverage } from "./peers/timing.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "9" },
    "uniform-b": { type: "boolean", default: false },
  },
});
const reps = Math.max(3, Number(values.reps));

const VEC4 = { access: "read", type: "vec4<f32>" } as const;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The template: R row groups × S column groups of 4 per invocation, WX × WY invocations. */
function variant(R: number, S: number, uniformB = false): Kernel {
  const acc = range(R).flatMap((i) => range(S).map((j) => `var c${i}_${j} = mat4x4f();`));
  const row = (v: string, p: string, r: number) => `${v}[${p} + ${r}u * k4 + k]`;
  const bLoads = range(S).map((j) =>
    `let b${j} = transpose(mat4x4f(${range(4).map((r) => row("b", "pb", 4 * j + r)).join(", ")}));`
  );
  const groups = range(R).map((i) =>
    `{ let a${i} = mat4x4f(${range(4).map((r) => row("a", "pa", 4 * i + r)).join(", ")});\n` +
    range(S).map((j) => `c${i}_${j} += b${j} * a${i};`).join(" ") + " }"
  );
  const stores = range(R).flatMap((i) =>
    range(S).map((j) => `put(c${i}_${j}, row0 + ${4 * i}u, col0 + ${4 * j}u);`)
  );
  return defineKernel({
    name: `nt_${4 * R}x${4 * S}${uniformB ? "_uniform_b" : ""}`,
    bindings: { a: VEC4, b: VEC4, c: "write" },
    uniforms: { m: "u32", n: "u32", k: "u32" },
    overrides: { WX: 8, WY: 4 },
    grid: ({ m, n }, { WX, WY }) => [
      Math.ceil(n / (4 * S) / WX),
      Math.ceil(m / (4 * R) / WY),
      1,
    ],
    wgsl: /* wgsl */ `
fn put(m: mat4x4f, row: u32, col: u32) {
  for (var s = 0u; s < 4u; s++) {
    for (var r = 0u; r < 4u; r++) { c[(row + r) * u.n + col + s] = m[r][s]; }
  }
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let k4 = u.k / 4u;
  let row0 = gid.y * ${4 * R}u;
  let col0 = gid.x * ${4 * S}u;
  let pa = row0 * k4;
  let pb = ${uniformB ? `gid.y * ${4 * S}u * k4` : "col0 * k4"};
  ${acc.join("\n  ")}
  for (var k = 0u; k < k4; k++) {
    ${bLoads.join("\n    ")}
    ${groups.join("\n    ")}
  }
  ${stores.join("\n  ")}
}`,
  }) as unknown as Kernel;
}

const blocks: [number, number][] = [[4, 4], [8, 2], [6, 2], [12, 2], [16, 2], [4, 2], [8, 1], [
  16,
  1,
]];
const kernels = blocks.map(([r, s]) => variant(r, s));
if (values["uniform-b"]) kernels.push(variant(4, 4, true));

const gpu = await requestGpu();
if (!gpu.hasTimestamps) {
  console.error(`error: adapter "${gpu.adapter.description}" has no timestamp-query feature`);
  Deno.exit(1);
}
console.log(
  `matmul_nt block variants on "${gpu.adapter.description}", median device time of ${reps}; ` +
    `load average ${loadAverage()}`,
);
const rng = new Rng(5);
const rand = (n: number): Tensor => fromArray(gpu, rng.array(n, -1, 1), [n], { persistent: true });

for (const [m, n, k] of [[1024, 256, 256], [1024, 1024, 256], [1024, 256, 1024]]) {
  const a = rand(m * k), b = rand(n * k);
  const run = async (kernel: Kernel | null) => {
    await withScope(gpu, async () => {
      if (kernel) dispatch(kernel, { a, b, c: empty(gpu, [m, n]) }, { m, n, k });
      else gemm({ a, b }, { batch: 1, m, n, k, transB: true, shape: [m, n] });
      await gpu.sync();
    });
  };
  for (const kernel of [...kernels, null]) await run(kernel); // compile
  gpu.recorder.startProfile();
  for (let r = 0; r < reps; r++) for (const kernel of [...kernels, null]) await run(kernel);
  const times = new Map<string, number[]>();
  for (const t of await gpu.recorder.stopProfile()) {
    times.set(t.name, [...(times.get(t.name) ?? []), t.ms]);
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  const base = median(times.get("nt_16x16")!);
  console.log(`\n[${m}, ${k}] · [${n}, ${k}]ᵀ`);
  for (const [name, v] of times) {
    const ms = median(v);
    console.log(
      `  ${name.padEnd(18)} ${ms.toFixed(2).padStart(8)} ms  ${
        (2 * m * n * k / ms / 1e6).toFixed(1).padStart(6)
      } GFLOP/s  ${(base / ms).toFixed(2)}× the template's 16×16`,
    );
  }
  a.dispose();
  b.dispose();
}
gpu.destroy();
