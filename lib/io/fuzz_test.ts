/**
 * Seeded fuzzing of the checkpoint readers: safetensors (bytes and header JSON), torch zip and
 * legacy `pytorch_model.bin`, and `config.json` (BERT fields and the camtl record). Every case
 * must load or end in a `CheckpointError` that names the file; counts and times are printed.
 */
import { CheckpointError } from "./errors.ts";
import { readTorchBin } from "./checkpoint.ts";
import { readBertConfig } from "./config.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";
import { hostTensorFromFloat32 } from "./host_tensor.ts";
import { caMtlTinyBert } from "../nn/ca_mtl/config.ts";
import { caMtlConfigToJson, savedCaMtlFromJson } from "../nn/ca_mtl/pretrained.ts";
import { fuzz, mutateBytes, mutateJsonText, ownError } from "../../tests/_util/fuzz.ts";
import { Rng } from "../../tests/_util/rng.ts";

const FIXTURES = new URL("../../tests/fixtures/", import.meta.url).pathname;
const checkpointError = (file: string) => ownError([CheckpointError], file);

/** Fuzzes `read(path)` with byte mutations of `original` written to one temporary file. */
async function fuzzFile(
  name: string,
  original: Uint8Array,
  options: {
    seed: number;
    cases: number;
    read: (path: string) => Promise<unknown>;
    mutate?: (bytes: Uint8Array, rng: Rng) => Uint8Array;
  },
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${name}`;
  try {
    await fuzz({
      name,
      seed: options.seed,
      cases: options.cases,
      make: (rng) => Deno.writeFile(path, (options.mutate ?? mutateBytes)(original, rng)),
      read: () => options.read(path),
      accept: checkpointError(path),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A safetensors file whose header JSON is mutated structurally, the length prefix kept right. */
function mutateSafetensorsHeader(bytes: Uint8Array, rng: Rng): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const json = mutateJsonText(header, rng);
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

Deno.test("fuzz: safetensors bytes and headers load or give CheckpointError", async () => {
  const rng = new Rng(31);
  const dir = await Deno.makeTempDir();
  try {
    await writeSafetensors(
      `${dir}/seed.safetensors`,
      new Map([
        [
          "a.weight",
          hostTensorFromFloat32([5, 3], Float32Array.from({ length: 15 }, () => rng.normal())),
        ],
        [
          "a.bias",
          hostTensorFromFloat32([5], Float32Array.from({ length: 5 }, () => rng.normal())),
        ],
        ["b", hostTensorFromFloat32([2, 2, 2], new Float32Array(8))],
      ]),
      { metadata: { format: "pt" } },
    );
    const original = await Deno.readFile(`${dir}/seed.safetensors`);
    await fuzzFile("model.safetensors", original, { seed: 1, cases: 2000, read: readSafetensors });
    await fuzzFile("header.safetensors", original, {
      seed: 2,
      cases: 2000,
      read: readSafetensors,
      mutate: mutateSafetensorsHeader,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: pytorch_model.bin (zip, DEFLATE zip, legacy) loads or gives CheckpointError", async () => {
  for (const [file, seed] of [["dtypes_zip.bin", 3], ["dtypes_deflate.bin", 4]] as const) {
    const original = await Deno.readFile(`${FIXTURES}io/${file}`);
    await fuzzFile(file, original, { seed, cases: 1500, read: readTorchBin });
  }
  const legacy = await Deno.readFile(`${FIXTURES}io/dtypes_legacy.bin`);
  await fuzzFile("dtypes_legacy.bin", legacy, { seed: 5, cases: 2000, read: readTorchBin });
});

Deno.test("fuzz: config.json (BERT fields and camtl record) loads or gives CheckpointError", async () => {
  const json = {
    ...caMtlConfigToJson({
      architecture: "CA-MTL-base",
      bert: caMtlTinyBert(300),
      tasks: [{ name: "rte", numLabels: 2 }, { name: "sts-b", numLabels: 1 }],
      maxSeqLength: 64,
    }),
    id2label: { 0: "no", 1: "yes" },
  };
  const text = JSON.stringify(json, null, 2);
  await fuzzFile("config.json", new TextEncoder().encode(text), {
    seed: 6,
    cases: 3000,
    mutate: (_, rng) => mutateJsonText(text, rng),
    read: async (path) => {
      await readBertConfig(path);
      return savedCaMtlFromJson(JSON.parse(await Deno.readTextFile(path)), path);
    },
  });
});
