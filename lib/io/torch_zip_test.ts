import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { readTorchBin } from "./checkpoint.ts";
import { CheckpointError } from "./errors.ts";
import type { StateDict } from "./host_tensor.ts";
import { crc32, readTorchZip, ZipReader } from "./torch_zip.ts";
import { Rng } from "../../tests/_util/rng.ts";
import { makeZip } from "../../tests/_util/zip.ts";

const FIXTURES = new URL("../../tests/fixtures/io/", import.meta.url).pathname;

interface Expected {
  dtype: string;
  shape: number[];
  hex: string;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function assertMatchesTorch(sd: StateDict, file: string): void {
  const expected: Record<string, Expected> = JSON.parse(
    Deno.readTextFileSync(`${FIXTURES}/expected.json`),
  );
  deepEqual(new Set(sd.keys()), new Set(Object.keys(expected)), file);
  for (const [key, e] of Object.entries(expected)) {
    const t = sd.get(key)!;
    deepEqual({ dtype: t.dtype, shape: t.shape, hex: hex(t.data) }, e, `${file}: "${key}"`);
  }
}

async function rejectsOn(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    await Deno.writeFile(path, bytes);
    await rejects(readTorchBin(path), (e) => {
      ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
      ok(pattern.test(e.message), `message "${e.message}" does not match ${pattern}`);
      return true;
    });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("readTorchBin() matches torch for every dtype, view and stride (zip format)", async () => {
  assertMatchesTorch(await readTorchBin(`${FIXTURES}/dtypes_zip.bin`), "dtypes_zip.bin");
});

Deno.test("readTorchBin() matches torch for the legacy (pre-1.6) format", async () => {
  assertMatchesTorch(await readTorchBin(`${FIXTURES}/dtypes_legacy.bin`), "dtypes_legacy.bin");
});

Deno.test("readTorchZip() inflates DEFLATE entries", async () => {
  const zip = await ZipReader.open(`${FIXTURES}/dtypes_deflate.bin`);
  try {
    ok([...zip.entries.values()].some((e) => e.method === 8), "fixture has DEFLATE entries");
  } finally {
    zip.close();
  }
  assertMatchesTorch(await readTorchZip(`${FIXTURES}/dtypes_deflate.bin`), "dtypes_deflate.bin");
});

Deno.test("readTorchBin() refuses os.system inside a zip checkpoint", async () => {
  const enc = new TextEncoder();
  const pkl = new Uint8Array([
    0x80,
    0x02,
    0x63,
    ...enc.encode("os\nsystem\n"),
    0x58,
    2,
    0,
    0,
    0,
    ...enc.encode("id"),
    0x85,
    0x52,
    0x2e,
  ]);
  await rejectsOn(await makeZip([["archive/data.pkl", pkl]]), /global "os.system" is not allowed/);
});

Deno.test("readTorchBin() detects corruption, truncation and a missing data.pkl", async () => {
  const good = await Deno.readFile(`${FIXTURES}/dtypes_zip.bin`);
  const zip = await ZipReader.open(`${FIXTURES}/dtypes_zip.bin`);
  const entry = zip.entries.get("dtypes_zip/data/2")!;
  zip.close();
  const flipped = good.slice();
  const lv = new DataView(good.buffer, entry.localHeaderOffset);
  const dataStart = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  flipped[dataStart + 1] ^= 0xff;
  await rejectsOn(flipped, /Cannot read "dtypes_zip\/data\/2" .*CRC-32 does not match/);
  await rejectsOn(good.subarray(0, good.length - 30), /no end-of-central-directory record/);
  await rejectsOn(good.subarray(0, 2000), /no end-of-central-directory record/);
  await rejectsOn(
    await makeZip([["archive/other", new Uint8Array(1)]]),
    /found 0 "data.pkl" entries/,
  );
  await rejectsOn(new TextEncoder().encode("not a checkpoint"), /neither a zip archive nor/);
  const legacy = await Deno.readFile(`${FIXTURES}/dtypes_legacy.bin`);
  await rejectsOn(legacy.subarray(0, legacy.length - 5), /truncated/);
  await rejectsOn(legacy.subarray(0, 100), /Cannot unpickle/);
});

Deno.test("readTorchBin() rejects a storage shorter than its pickle says", async () => {
  const zip = await ZipReader.open(`${FIXTURES}/dtypes_zip.bin`);
  const files: [string, Uint8Array][] = [];
  try {
    for (const name of zip.entries.keys()) {
      const data = await zip.read(name);
      files.push([name, data]);
    }
  } finally {
    zip.close();
  }
  const short = files.map(([n, d]): [string, Uint8Array] => [
    n,
    n === "dtypes_zip/data/0" ? d.subarray(0, d.length - 2) : d,
  ]);
  await rejectsOn(await makeZip(short), /storage "0" holds \d+ bytes, the pickle needs \d+/);
  // The same archive rebuilt intact (and under another root name) still reads.
  const path = await Deno.makeTempFile();
  try {
    const renamed = files.map((
      [n, d],
    ): [string, Uint8Array] => [n.replace("dtypes_zip/", "x/"), d]);
    await Deno.writeFile(path, await makeZip(renamed));
    equal((await readTorchBin(path)).size, 17);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("crc32() gives the standard check value and matches a bitwise CRC at every length", () => {
  equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  equal(crc32(new Uint8Array(0)), 0);
  const bitwise = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const rng = new Rng(3);
  const bytes = Uint8Array.from({ length: 200 }, () => rng.int(256));
  for (let n = 0; n <= 200; n += 1) {
    equal(crc32(bytes.subarray(0, n)), bitwise(bytes.subarray(0, n)), `length ${n}`);
    equal(crc32(bytes.subarray(n % 7, n)), bitwise(bytes.subarray(n % 7, n)), `offset ${n % 7}`);
  }
});
