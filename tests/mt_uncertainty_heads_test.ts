/**
 * The Trainer's MT-Uncertainty scorer on a CA-MTL model with every head kind: the logits the
 * model returns for a mixed candidate pool have the shapes the sampler scores (docs/model.md
 * §12.10), every step keeps b candidates, and training runs.
 */
import assert from "node:assert/strict";
import { getTask } from "../lib/data/tasks.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import type { MtUncertaintySampler } from "../lib/data/mt_uncertainty.ts";
import { Trainer } from "../lib/train/trainer.ts";
import { gpuTest } from "./_util/gpu.ts";
import { syntheticHeadFeatures } from "./_util/synthetic_head_features.ts";
import { tinyOptions } from "./_util/tiny_trainer.ts";

const TASKS = ["rte", "wnut17", "squad", "copa"];

gpuTest(
  "MT-Uncertainty trains a CA-MTL model over classification, tagging, spans and choices",
  async (gpu) => {
    const tasks = TASKS.map((name) => ({ name, numLabels: getTask(name).numLabels }));
    const bert = {
      ...caMtlTinyBert(4100),
      hiddenSize: 32,
      numAttentionHeads: 2,
      intermediateSize: 64,
    };
    const model = new CaMtl({ architecture: "CA-MTL-base", bert, tasks, maxSeqLength: 16 }, {
      seed: 5,
    })
      .materialize(gpu, 5);
    const train = TASKS.map((t, id) => syntheticHeadFeatures(t, id, 8, 12));
    const dir = await Deno.makeTempDir({ prefix: "camtl-mtu-heads-" });
    try {
      const trainer = new Trainer(
        gpu,
        model,
        { train, dev: [] },
        tinyOptions(dir, { maxSteps: 3 }),
      );
      const { globalStep, losses } = await trainer.train();
      assert.equal(globalStep, 3);
      assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
      const sampler = trainer.sampler as MtUncertaintySampler;
      const step = sampler.lastStep!;
      // 4 candidates of each task, a COPA example one candidate; every score finite and in [0, 1].
      assert.deepEqual(step.result.counts, [4, 4, 4, 4]);
      assert.ok(step.scores.every((s) => s >= 0 && s <= 1), `scores ${step.scores}`);
      assert.ok(step.result.taskMean.every((m) => m > 0), `every head is uncertain at first`);
      assert.equal(step.selected.length, 4);
      assert.equal(sampler.stats().candidatesSeen, 3 * 16);
      trainer.dispose();
    } finally {
      model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
