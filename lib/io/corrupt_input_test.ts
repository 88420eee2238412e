/**
 * Seeded corruption sweep: flip, truncate and overwrite bytes of valid checkpoints and check
 * that every reader either succeeds or throws a CheckpointError — never another error type,
 * a hang or an out-of-memory.
 */
import { ok } from "node:assert/strict";
import { Rng } from "../../tests/_util/rng.ts";
import { readTorchBin } from "./checkpoint.ts";
import { CheckpointError } from "./errors.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";
import { hostTensorFromFloat32 } from "./host_tensor.ts";
import { unpickleTorch } from "./torch_pickle.ts";
import { ZipReader } from "./torch_zip.ts";

const FIXTURES = new URL("../../tests/fixtures/io/", import.meta.url).pathname;

/** One random corruption of `bytes`. */
function corrupt(bytes: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.int(4);
  if (kind === 0) return bytes.subarray(0, rng.int(bytes.length)); // truncate
  const out = bytes.slice();
  const hits = 1 + rng.int(4);
  for (let i = 0; i < hits; i++) {
    const at = rng.int(out.length);
    if (kind === 1) out[at] ^= 1 << rng.int(8); // flip a bit
    else if (kind === 2) out[at] = [0, 0xff, 0x7f, 0x80][rng.int(4)]; // extreme byte
    else out.fill(0xff, at, Math.min(out.length, at + 8)); // overwrite a length field
  }
  return out;
}

async function sweep(
  name: string,
  original: Uint8Array,
  read: (path: string) => Promise<unknown>,
  seed: number,
): Promise<void> {
  const rng = new Rng(seed);
  const path = await Deno.makeTempFile();
  try {
    for (let i = 0; i < 300; i++) {
      const bytes = corrupt(original, rng);
      await Deno.writeFile(path, bytes);
      try {
        await read(path);
      } catch (e) {
        ok(
          e instanceof CheckpointError,
          `${name} case ${i} (seed ${seed}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`,
        );
      }
    }
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("corrupted torch zip files give CheckpointError or load", async () => {
  await sweep(
    "dtypes_zip.bin",
    await Deno.readFile(`${FIXTURES}/dtypes_zip.bin`),
    readTorchBin,
    11,
  );
});

Deno.test("corrupted DEFLATE zip files give CheckpointError or load", async () => {
  const bytes = await Deno.readFile(`${FIXTURES}/dtypes_deflate.bin`);
  await sweep("dtypes_deflate.bin", bytes, readTorchBin, 12);
});

Deno.test("corrupted legacy torch files give CheckpointError or load", async () => {
  const bytes = await Deno.readFile(`${FIXTURES}/dtypes_legacy.bin`);
  await sweep("dtypes_legacy.bin", bytes, readTorchBin, 13);
});

Deno.test("corrupted safetensors files give CheckpointError or load", async () => {
  const path = await Deno.makeTempFile();
  try {
    const rng = new Rng(5);
    const sd = new Map([
      ["a", hostTensorFromFloat32([4, 3], Float32Array.from({ length: 12 }, () => rng.normal()))],
      ["b", hostTensorFromFloat32([5], Float32Array.from({ length: 5 }, () => rng.normal()))],
    ]);
    await writeSafetensors(path, sd);
    const bytes = await Deno.readFile(path);
    await sweep("model.safetensors", bytes, readSafetensors, 14);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("corrupted data.pkl bytes give CheckpointError or unpickle", async () => {
  const zip = await ZipReader.open(`${FIXTURES}/dtypes_zip.bin`);
  let pkl: Uint8Array;
  try {
    pkl = await zip.read("dtypes_zip/data.pkl");
  } finally {
    zip.close();
  }
  const rng = new Rng(15);
  for (let i = 0; i < 2000; i++) {
    try {
      unpickleTorch(corrupt(pkl, rng), { path: "data.pkl" });
    } catch (e) {
      ok(
        e instanceof CheckpointError,
        `case ${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}`,
      );
    }
  }
});
