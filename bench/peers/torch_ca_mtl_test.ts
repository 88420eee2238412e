/**
 * `torch_ca_mtl.py` computes camtl's CA-MTL-tiny MT-Uncertainty step: for camtl's weights
 * (spread wider than the initialisation, so that candidates' scores differ clearly) and the
 * demo's first candidate pool, in eval mode, PyTorch gives the same scores, keeps the same 32
 * candidates and gets the same training loss. Skipped with a visible message without torch.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Gpu } from "../../lib/gpu/device.ts";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { Rng } from "../../tests/_util/rng.ts";
import {
  candidatePools,
  demoModel,
  demoSampler,
  demoScorer,
  demoTrainData,
  poolsJson,
} from "./ca_mtl_tiny.ts";
import { skipWithoutTorch, torchCheck } from "./_torch_check.ts";

const NAME = "torch_ca_mtl.py's MT-Uncertainty step matches camtl's scores, selection and loss";
gpuTest(NAME, async (gpu: Gpu) => {
  if (await skipWithoutTorch(NAME)) return;
  const data = await demoTrainData();
  const model = demoModel(gpu, data);
  const poolsFile = await Deno.makeTempFile({ suffix: ".json" });
  try {
    model.eval();
    const rng = new Rng(21);
    const params: Record<string, { shape: readonly number[]; data: number[] }> = {};
    for (const [name, p] of model.namedParameters()) {
      const gain = p.shape.length === 1 && name.endsWith(".weight");
      const values = rng.array(p.value.size).map((u) => gain ? 1 + 0.1 * u : 0.2 * u);
      p.value.write(values);
      params[name] = { shape: p.shape, data: Array.from(values, Math.fround) };
    }
    const sampler = demoSampler(data, demoScorer(gpu, model));
    const batch = (await sampler.nextBatch())!;
    const ours = (await model.forward(batch).loss!.readFloat())[0];
    const step = sampler.lastStep!;
    await Deno.writeTextFile(poolsFile, poolsJson(data, await candidatePools(data, 1)));
    const torch = await torchCheck<{ loss: number; selected: number[]; scores: number[] }>({
      kind: "ca_mtl",
      pools: poolsFile,
      params,
    });
    assertAllClose(step.rowScores, torch.scores, { atol: 1e-5, rtol: 1e-4 });
    assert.deepEqual([...step.selected].sort((a, b) => a - b), torch.selected);
    assert.ok(
      Math.abs(ours - torch.loss) <= 1e-4 * Math.abs(torch.loss) + 1e-5,
      `loss: camtl ${ours}, torch ${torch.loss}`,
    );
  } finally {
    model.dispose();
    await Deno.remove(poolsFile);
  }
});
