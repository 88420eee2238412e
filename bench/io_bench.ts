/**
 * Checkpoint IO throughput, each measured against the raw file operation it wraps (the
 * baseline), so the ratio shows the cost of parsing, validation and conversion:
 * - safetensors read/write of a one-layer BERT-base-shaped state dict (~120 MiB) vs
 *   `Deno.readFile`/`Deno.writeFile` of the same bytes;
 * - `toFloat32` of F16 and BF16 vs F32;
 * - CRC-32 (what the zip reader adds per storage) vs a plain copy;
 * - the tiny NER checkpoint from pytorch_model.bin vs model.safetensors (needs shared data).
 *
 * Run: `deno bench -P bench/io_bench.ts`.
 *
 * @module
 */

import { readTorchBin } from "../lib/io/checkpoint.ts";
import {
  type DType,
  type HostTensor,
  numel,
  type StateDict,
  toFloat32,
} from "../lib/io/host_tensor.ts";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.ts";
import { crc32 } from "../lib/io/torch_zip.ts";
import { dataPath, hasData } from "../tests/_util/data.ts";
import { Rng } from "../tests/_util/rng.ts";

const C = 768;
const I = 3072;
const V = 30522;

function filled(dtype: DType, shape: number[], rng: Rng): HostTensor {
  const data = new Uint8Array(numel(shape) * (dtype === "F32" ? 4 : 2));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { dtype, shape, data };
}

/** A one-layer BERT-base-shaped state dict with random bytes. */
function bertLayerStateDict(rng: Rng): StateDict {
  const sd: StateDict = new Map();
  sd.set("bert.embeddings.word_embeddings.weight", filled("F32", [V, C], rng));
  sd.set("bert.embeddings.position_embeddings.weight", filled("F32", [512, C], rng));
  for (const name of ["query", "key", "value"]) {
    sd.set(`bert.encoder.layer.0.attention.self.${name}.weight`, filled("F32", [C, C], rng));
    sd.set(`bert.encoder.layer.0.attention.self.${name}.bias`, filled("F32", [C], rng));
  }
  sd.set("bert.encoder.layer.0.intermediate.dense.weight", filled("F32", [I, C], rng));
  sd.set("bert.encoder.layer.0.output.dense.weight", filled("F32", [C, I], rng));
  return sd;
}

const rng = new Rng(7);
const dir = await Deno.makeTempDir({ prefix: "io_bench_" });
const stPath = `${dir}/model.safetensors`;
const sd = bertLayerStateDict(rng);
await writeSafetensors(stPath, sd);
const raw = await Deno.readFile(stPath);
const mib = Math.round(raw.length / 2 ** 20);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.bench({ group: "read", name: `Deno.readFile[${mib}MiB]`, baseline: true }, async () => {
  await Deno.readFile(stPath);
});
Deno.bench({ group: "read", name: `readSafetensors[${mib}MiB]` }, async () => {
  await readSafetensors(stPath);
});

Deno.bench({ group: "write", name: `Deno.writeFile[${mib}MiB]`, baseline: true }, async () => {
  await Deno.writeFile(`${dir}/raw.bin`, raw);
});
Deno.bench({ group: "write", name: `writeSafetensors[${mib}MiB]` }, async () => {
  await writeSafetensors(`${dir}/out.safetensors`, sd);
});

const N = 1 << 22;
const f32 = filled("F32", [N], rng);
const f16 = filled("F16", [N], rng);
const bf16 = filled("BF16", [N], rng);
Deno.bench({ group: "to_float32", name: "F32[4M]", baseline: true }, () => void toFloat32(f32));
Deno.bench({ group: "to_float32", name: "F16[4M]" }, () => void toFloat32(f16));
Deno.bench({ group: "to_float32", name: "BF16[4M]" }, () => void toFloat32(bf16));

const block = raw.subarray(0, 64 * 2 ** 20);
Deno.bench({ group: "crc32", name: "copy[64MiB]", baseline: true }, () => void block.slice());
Deno.bench({ group: "crc32", name: "crc32[64MiB]" }, () => void crc32(block));

if (hasData("tiny-bert-camphr-ner")) {
  const folder = dataPath("tiny-bert-camphr-ner");
  Deno.bench({ group: "tiny_ner", name: "model.safetensors", baseline: true }, async () => {
    await readSafetensors(`${folder}/model.safetensors`);
  });
  Deno.bench({ group: "tiny_ner", name: "pytorch_model.bin" }, async () => {
    await readTorchBin(`${folder}/pytorch_model.bin`);
  });
}
