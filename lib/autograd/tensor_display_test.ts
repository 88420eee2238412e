import assert from "node:assert/strict";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { fromArray } from "./tensor.ts";

gpuTest("console.log of a tensor is one line naming its id, shape and dtype", (gpu) => {
  const t = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
  t.name = "w";
  const shown = Deno.inspect(t);
  assert.equal(
    shown,
    `Tensor(#${t.id}, shape=[2, 3], dtype=f32, name="w", values: await t.print())`,
  );
  // Nested in other values too (a record of outputs, an array of parameters).
  assert.ok(Deno.inspect({ logits: t }).includes(shown));
  const ids = fromArray(gpu, [7], [1], { dtype: "i32" });
  ids.dispose();
  assert.equal(Deno.inspect(ids), `Tensor(#${ids.id}, shape=[1], dtype=i32, disposed)`);
});

gpuTest("print shows the shape, dtype and the first and last values", async (gpu) => {
  const values = Array.from({ length: 2400 }, (_, i) => i % 7 === 3 ? -i / 8 : i / 8);
  const t = fromArray(gpu, values, [40, 60]);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    await t.print();
  } finally {
    console.log = log;
  }
  assert.equal(printed.length, 1);
  const lines = printed[0].split("\n");
  assert.equal(lines[0], "Tensor(shape=[40, 60], dtype=f32)");
  // What torch prints for the same values: 3 rows and columns from each end, in 80 columns.
  assert.equal(lines.length, 1 + 13);
  assert.equal(
    lines[1],
    "[[ 0.0000e+00,  1.2500e-01,  2.5000e-01,  ...,  7.1250e+00,  7.2500e+00,",
  );
  assert.equal(lines[2], "  -7.3750e+00],");
  assert.equal(lines[7], " ...,");
  assert.equal(
    lines.at(-2),
    " [ 2.9250e+02, -2.9262e+02,  2.9275e+02,  ..., -2.9962e+02,  2.9975e+02,",
  );
  assert.equal(lines.at(-1), "   2.9988e+02]]");
  assert.equal(printed[0], await t.format());
});

gpuTest("the Jupyter display of a 2-D tensor is its text and an HTML table", async (gpu) => {
  const t = fromArray(gpu, [1, -2, 3, 4], [2, 2], { dtype: "i32" });
  // deno-lint-ignore no-explicit-any
  const display = (t as any)[Symbol.for("Jupyter.display")] as () => Promise<
    Record<string, string>
  >;
  const bundle = await display.call(t);
  assert.equal(bundle["text/plain"], "Tensor(shape=[2, 2], dtype=i32)\n[[ 1, -2],\n [ 3,  4]]");
  assert.match(bundle["text/html"], /<table><tr><td[^>]*>1<\/td><td[^>]*>-2<\/td><\/tr>/);
  t.dispose();
  assert.match((await display.call(t))["text/plain"], /disposed\)$/);
});
