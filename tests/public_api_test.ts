/**
 * The published surface: `mod.ts` exports a curated list by name, every symbol documented
 * (`deno doc --lint` clean), internals kept out, and a classifier head can be built from the
 * public layer modules without subclassing `Module`.
 */
import assert from "node:assert/strict";
import * as camtl from "../mod.ts";
import { gpuTestUnscoped } from "./_util/gpu.ts";

const MOD = new URL("../mod.ts", import.meta.url).pathname;

async function denoDoc(...args: string[]): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", ...args, MOD],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout) + text.decode(stderr) };
}

Deno.test("deno doc --lint mod.ts reports no error", async () => {
  const { code, out } = await denoDoc("--lint");
  const errors = out.split("\n").filter((l) => /error\[/.test(l));
  assert.deepEqual(errors, [], out.slice(0, 4000));
  assert.equal(code, 0);
});

Deno.test("mod.ts exports a curated API, by name, without internals", async () => {
  const source = await Deno.readTextFile(MOD);
  assert.doesNotMatch(source, /export \*/, "no export * chains");
  const { out } = await denoDoc("--json");
  type Symbol = { name: string; declarations: { kind: string }[] };
  const modules = Object.values(JSON.parse(out).nodes) as { symbols: Symbol[] }[];
  const symbols = modules.flatMap((m) => m.symbols);
  const names = new Set(symbols.map((s) => s.name));
  const values = symbols.filter((s) =>
    s.declarations.some((d) => ["class", "function", "variable"].includes(d.kind))
  );
  // 85 values (classes, functions, constants) and 91 option and result types today.
  assert.ok(names.size <= 180, `${names.size} exported symbols`);
  assert.ok(values.length >= 60 && values.length <= 100, `${values.length} exported values`);
  for (const internal of ["FEATURE_CACHE_VERSION", "encodeFeatureCache", "selectTopK", "byGrid"]) {
    assert.ok(!names.has(internal), `${internal} is internal`);
  }
  for (const block of ["Linear", "LayerNorm", "Embedding", "Dropout", "ModuleList"]) {
    assert.ok(names.has(block), `${block} is public`);
  }
});

gpuTestUnscoped("a classifier head from public layers, with no Module subclass", async (gpu) => {
  const head = new camtl.ModuleList([new camtl.Linear(8, 16), new camtl.Linear(16, 3)])
    .materialize(gpu, 1);
  const x = camtl.fromArray(gpu, Array.from({ length: 16 }, (_, i) => i / 16), [2, 8]);
  const [a, b] = head.items;
  const logits = b.forward(camtl.gelu({ x: a.forward(x) }));
  assert.deepEqual(logits.shape, [2, 3]);
  const loss = camtl.crossEntropy({ logits }, {
    labels: camtl.fromArray(gpu, [0, 2], [2], { dtype: "i32" }),
  });
  camtl.backward(loss);
  const optimizer = new camtl.AdamW(camtl.groupParameters(head, { weightDecay: 0.01 }), {
    lr: 0.1,
  });
  camtl.clipGradNorm(head, 1);
  const before = await a.weight.value.readFloat();
  optimizer.step();
  camtl.zeroGrad(head);
  assert.notDeepEqual(await a.weight.value.readFloat(), before);
  optimizer.dispose();
  head.dispose();
});

Deno.test("the published package holds no tests, test data, notebooks or benchmarks", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, out.slice(-2000));
  const files = [...out.matchAll(/file:\/\/\S+/g)].map((m) => m[0].slice(`file://${root}`.length));
  assert.ok(files.includes("mod.ts") && files.includes("lib/nn/bert/model.ts"), out.slice(-2000));
  const unwanted = files.filter((f) =>
    /(^|\/)(tests|bench|notebooks|testdata)\//.test(f) || /_test\.ts$|\/_synthetic_/.test(f)
  );
  assert.deepEqual(unwanted, []);
});
