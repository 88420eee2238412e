/**
 * Seeded fuzzing of checkpoint folders as `Trainer.resume` reads them: `trainer_state.json`
 * (step counts, dropout RNG state, the sampler's full state, the loss scaler's, the log) and
 * `optimizer.safetensors`. Every case must restore or end in a `CheckpointError` naming a file
 * of the checkpoint; nothing else escapes, for either sampler family.
 */
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";
import type { SamplingMode } from "../data/sampler.ts";
import { createSampler } from "../data/samplers.ts";
import { CheckpointError } from "../io/errors.ts";
import { hostTensorFromFloat32 } from "../io/host_tensor.ts";
import { saveSafetensors } from "../io/checkpoint.ts";
import { SeedStream } from "../nn/seeds.ts";
import { GradScaler } from "../optim/grad_scaler.ts";
import { fuzz, mutateBytes, mutateJsonText, ownError } from "../../tests/_util/fuzz.ts";
import { readCheckpoint, TRAINER_STATE } from "./checkpoint.ts";
import { checkOptimizerSizes, restoreHostState } from "./trainer_state.ts";

const NAMES = ["a.weight", "a.bias", "head.weight"];
const SIZES = [6, 3, 2];

function sampler(mode: SamplingMode) {
  const sets = [syntheticFeatures("mrpc", 0, 23, 12), syntheticFeatures("sts-b", 1, 17, 12)];
  const scorer = (pool: { tasks: { rows: Int32Array; taskId: number }[] }) =>
    Promise.resolve(pool.tasks.map((t) => new Float32Array(t.rows.length * (t.taskId ? 1 : 2))));
  return createSampler(mode, sets, { batchSize: 4, seed: 3, scorer });
}

for (const [mode, seed] of [["proportional", 51], ["mt-uncertainty", 52]] as const) {
  Deno.test(`fuzz: checkpoint folders (${mode} sampler) restore or give CheckpointError`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const s = sampler(mode);
      for (let i = 0; i < 5; i++) await s.nextBatch();
      const state = {
        global_step: 5,
        epoch: 0,
        dropout_seed_state: new SeedStream(7).state,
        sampler: s.saveState(),
        log_history: [{ step: 5, epoch: 0.1, loss: 0.7 }],
        best: { mrpc: { acc: 0.5 } },
        total_steps: 20,
        grad_scaler: new GradScaler().state(),
        optimizer_step: 5,
        optimizer_steps: [5, 5, null],
      };
      const text = JSON.stringify(state, null, 1);
      await saveSafetensors(
        `${dir}/optimizer.safetensors`,
        new Map(
          NAMES.slice(0, 2).flatMap((name, i) =>
            ["exp_avg", "exp_avg_sq"].map((m) =>
              [
                `${name}.${m}`,
                hostTensorFromFloat32([SIZES[i]], new Float32Array(SIZES[i])),
              ] as const
            )
          ),
        ),
      );
      const optimizer = await Deno.readFile(`${dir}/optimizer.safetensors`);
      await fuzz({
        name: `checkpoint folder (${mode})`,
        seed,
        cases: 2500,
        make: async (rng, i) => {
          const stateCase = i % 5 !== 4; // four in five mutate the trainer state
          await Deno.writeFile(
            `${dir}/${TRAINER_STATE}`,
            stateCase ? mutateJsonText(text, rng) : new TextEncoder().encode(text),
          );
          await Deno.writeFile(
            `${dir}/optimizer.safetensors`,
            stateCase ? optimizer : mutateBytes(optimizer, rng),
          );
        },
        read: async () => {
          const got = await readCheckpoint(dir, NAMES);
          checkOptimizerSizes(got.optimizer, {
            file: `${dir}/optimizer.safetensors`,
            names: NAMES,
            sizes: SIZES,
          });
          const into = {
            sampler: sampler(mode),
            seeds: new SeedStream(1),
            scaler: new GradScaler(),
          };
          restoreHostState(got.state, into, `${dir}/${TRAINER_STATE}`);
          await into.sampler.nextBatch(); // a restored sampler must also draw
        },
        accept: ownError([CheckpointError], dir),
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
