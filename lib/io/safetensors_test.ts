import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { CheckpointError } from "./errors.ts";
import { hostTensorFromFloat32, numel, type StateDict } from "./host_tensor.ts";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "./safetensors.ts";
import { Rng } from "../../tests/_util/rng.ts";

/** Raw file bytes: length prefix (or `length`), header text, data. */
function craft(header: string | object, data: Uint8Array, length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function withFile<T>(bytes: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, bytes);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

async function rejectsWith(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await withFile(bytes, (path) =>
    rejects(readSafetensors(path), (e) => {
      ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
      ok(pattern.test(e.message), `message "${e.message}" does not match ${pattern}`);
      equal(e.file, path);
      return true;
    }));
}

const entry = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

function randomStateDict(seed: number): StateDict {
  const rng = new Rng(seed);
  const sd: StateDict = new Map();
  const shapes: [string, number[]][] = [["b.weight", [3, 5]], ["a.bias", [7]], ["10", [1]]];
  for (const [name, shape] of shapes) {
    const n = numel(shape);
    sd.set(
      name,
      hostTensorFromFloat32(shape, Float32Array.from({ length: n }, () => rng.normal())),
    );
  }
  const i64 = new Uint8Array(16);
  i64.set([1, 2, 3, 4, 5, 6, 7, 8, 255, 255, 255, 255, 255, 255, 255, 255]);
  sd.set("ids", { dtype: "I64", shape: [2], data: i64 });
  sd.set("half", { dtype: "F16", shape: [1, 1], data: new Uint8Array([0x00, 0x3c]) });
  sd.set("empty", { dtype: "F32", shape: [0, 4], data: new Uint8Array(0) });
  return sd;
}

Deno.test("writeSafetensors() then readSafetensors() is bit-identical", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sd = randomStateDict(1);
    await writeSafetensors(`${dir}/m.safetensors`, sd);
    const { stateDict, metadata } = await readSafetensors(`${dir}/m.safetensors`);
    deepEqual(metadata, { format: "pt" });
    deepEqual(new Set(stateDict.keys()), new Set(sd.keys()));
    for (const [k, t] of sd) deepEqual(stateDict.get(k), t, k);
    // Writing what was read gives the same file, byte for byte.
    await writeSafetensors(`${dir}/again.safetensors`, stateDict);
    deepEqual(
      await Deno.readFile(`${dir}/again.safetensors`),
      await Deno.readFile(`${dir}/m.safetensors`),
    );
    // No temporary file is left beside the result.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    deepEqual(names, ["again.safetensors", "m.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeSafetensors() writes a sorted, space-padded, 8-byte aligned header", async () => {
  const sd = randomStateDict(2);
  const path = await Deno.makeTempFile();
  try {
    await writeSafetensors(path, sd);
    const bytes = await Deno.readFile(path);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    equal(n % 8, 0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    ok(/^\{.*\} *$/.test(text), "header is JSON padded with spaces");
    const header = JSON.parse(text);
    deepEqual(header.__metadata__, { format: "pt" });
    const keys = Object.keys(header).filter((k) => k !== "__metadata__");
    deepEqual(new Set(keys), new Set(sd.keys()));
    // Key order in the text is sorted (JSON.parse would move "10" first, so read it raw).
    const textKeys = [...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    deepEqual(textKeys, [...sd.keys()].sort());
    const h = await readSafetensorsHeader(path);
    equal(h.dataStart, 8 + n);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readSafetensors() reads data at its offsets, not in header order", async () => {
  const data = new Uint8Array(12);
  new DataView(data.buffer).setFloat32(0, 7, true);
  new DataView(data.buffer).setFloat32(4, 8, true);
  new DataView(data.buffer).setFloat32(8, 9, true);
  const bytes = craft({ late: entry(8, 12), early: entry(0, 8) }, data);
  const { stateDict } = await withFile(bytes, readSafetensors);
  deepEqual([...stateDict.keys()], ["late", "early"]);
  deepEqual(stateDict.get("late")?.data, data.subarray(8, 12));
});

Deno.test("readSafetensors() rejects a truncated file", async () => {
  const good = craft({ w: entry(0, 16) }, new Uint8Array(16));
  await rejectsWith(good.subarray(0, good.length - 3), /outside the data section|trailing/);
  await rejectsWith(good.subarray(0, 5), /fewer than the 8-byte header length/);
  await rejectsWith(good.subarray(0, 20), /header length \d+ exceeds the 12 bytes after it/);
});

Deno.test("readSafetensors() rejects a header length of 2^60 without allocating", async () => {
  await rejectsWith(craft({}, new Uint8Array(0), 2n ** 60n), /exceeds the 100000000-byte limit/);
  await rejectsWith(craft({}, new Uint8Array(0), 2n ** 64n - 1n), /exceeds/);
});

Deno.test("readSafetensors() rejects overlapping data offsets", async () => {
  const bytes = craft({ a: entry(0, 8), b: entry(4, 12) }, new Uint8Array(12));
  await rejectsWith(bytes, /entries "a" and "b" overlap at byte 4/);
});

Deno.test("readSafetensors() rejects offsets outside the file", async () => {
  await rejectsWith(craft({ a: entry(0, 4096) }, new Uint8Array(8)), /outside the data section/);
  await rejectsWith(
    craft(
      { a: { dtype: "F32", shape: [1], data_offsets: [2 ** 62, 2 ** 62 + 4] } },
      new Uint8Array(4),
    ),
    /invalid data_offsets|outside/,
  );
  await rejectsWith(
    craft({ a: { dtype: "F32", shape: [1], data_offsets: [8, 4] } }, new Uint8Array(8)),
    /outside the data section/,
  );
});

Deno.test("readSafetensors() rejects holes, size mismatches and bad fields", async () => {
  await rejectsWith(craft({ a: entry(4, 8) }, new Uint8Array(8)), /bytes 0\.\.4 .* unused/);
  await rejectsWith(craft({ a: entry(0, 4) }, new Uint8Array(8)), /4 trailing bytes/);
  await rejectsWith(
    craft({ a: entry(0, 8, [3]) }, new Uint8Array(8)),
    /spans 8 bytes, but F32 \[3\] needs 12/,
  );
  await rejectsWith(
    craft({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
    /unsupported dtype "Q4"/,
  );
  await rejectsWith(
    craft({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)),
    /invalid shape/,
  );
  await rejectsWith(craft('{"a": ', new Uint8Array(0)), /not valid UTF-8 JSON/);
  await rejectsWith(craft("[1, 2]", new Uint8Array(0)), /not a JSON object/);
  await rejectsWith(
    craft({ __metadata__: { format: 1 } }, new Uint8Array(0)),
    /"__metadata__" value "format" is not a string/,
  );
  await rejectsWith(
    craft(
      { a: { dtype: "F32", shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 0] } },
      new Uint8Array(0),
    ),
    /too many elements/,
  );
});

Deno.test("writeSafetensors() refuses a tensor whose bytes do not match its shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sd: StateDict = new Map([["w", { dtype: "F32", shape: [3], data: new Uint8Array(8) }]]);
    await rejects(writeSafetensors(`${dir}/x.safetensors`, sd), TypeError);
    deepEqual([...Deno.readDirSync(dir)], [], "nothing is left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
