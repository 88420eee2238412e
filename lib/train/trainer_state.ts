/**
 * Reading a checkpoint's `trainer_state.json` as outside data: every field a resume uses is
 * checked (types, ranges, lengths) before anything changes, and the sampler, dropout RNG and
 * loss-scaler states are restored through one function whose refusals all become a
 * `CheckpointError` naming the file. A damaged or hand-edited state fails at load with its
 * field named, instead of resuming from a silently different position.
 *
 * @module
 */

import { Tensor } from "../autograd/tensor.ts";
import type { MultiTaskSampler, SamplerState } from "../data/sampler.ts";
import { CheckpointError } from "../io/errors.ts";
import type { SeedStream } from "../nn/seeds.ts";
import type { AdamW, AdamWState } from "../optim/adamw.ts";
import type { GradScaler, GradScalerState } from "../optim/grad_scaler.ts";
import type { TrainerStateJson } from "./checkpoint.ts";

/** The file that marks a checkpoint as complete (re-exported by `checkpoint.ts`). */
export const TRAINER_STATE = "trainer_state.json";

function refuse(file: string, state: string, cause?: unknown): never {
  throw new CheckpointError(
    `Cannot resume from "${file}": ${state} (a damaged or edited checkpoint; resume from ` +
      `another one)`,
    { file, cause },
  );
}

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Parses and checks `trainer_state.json` for an optimizer over `paramCount` parameters.
 *
 * @throws {CheckpointError} naming the file and the first bad field
 */
export function parseTrainerState(
  text: string,
  { file, paramCount }: { file: string; paramCount: number },
): TrainerStateJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    refuse(file, `it is not JSON (${(e as Error).message})`, e);
  }
  if (!isObject(json)) refuse(file, "it is not a JSON object");
  const s = json as Record<string, unknown>;
  const field = (key: string, ok: (v: unknown) => boolean, expected: string, optional = false) => {
    if (optional && s[key] === undefined) return;
    if (!ok(s[key])) refuse(file, `"${key}" is ${JSON.stringify(s[key])}, expected ${expected}`);
  };
  field("global_step", isCount, "a step count");
  field("epoch", isCount, "an epoch count");
  field("optimizer_step", isCount, "a step count");
  field("total_steps", isCount, "a step count", true);
  field(
    "dropout_seed_state",
    (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff,
    "a uint32",
  );
  field(
    "optimizer_steps",
    (v) => Array.isArray(v) && v.length === paramCount && v.every((x) => x === null || isCount(x)),
    `a list of ${paramCount} step counts or nulls`,
  );
  field("sampler", isObject, "a sampler state object");
  field("log_history", (v) => Array.isArray(v) && v.every(isObject), "a list of records", true);
  field("best", isObject, "an object of metrics", true);
  field("grad_scaler", isObject, "a loss-scaler state object", true);
  return s as TrainerStateJson;
}

/**
 * Throws unless every moment of `state` has its parameter's size.
 *
 * @param sizes element counts of the optimizer's parameters, in its order
 * @throws {CheckpointError} naming the file, the parameter and both sizes
 */
export function checkOptimizerSizes(
  state: AdamWState,
  { file, names, sizes }: { file: string; names: readonly string[]; sizes: readonly number[] },
): void {
  state.params.forEach((p, i) => {
    if (p && (p.m.length !== sizes[i] || p.v.length !== sizes[i])) {
      refuse(
        file,
        `the moments of "${names[i]}" hold ${p.m.length} and ${p.v.length} values, the ` +
          `parameter ${sizes[i]}`,
      );
    }
  });
}

/** What a resume restores besides the model and the optimizer. */
export interface HostTrainingState {
  sampler: MultiTaskSampler;
  seeds: SeedStream;
  scaler: GradScaler | null;
}

/**
 * Restores the sampler, the dropout seed stream and the loss scaler from a checked state; the
 * sampler checks its own part in full before changing anything.
 *
 * @throws {CheckpointError} naming the file and what the sampler or scaler refused
 */
export function restoreHostState(
  state: TrainerStateJson,
  into: HostTrainingState,
  file: string,
): void {
  try {
    into.sampler.loadState(state.sampler as SamplerState);
    // A checkpoint from an f32 run has no scaler state: the scaler then starts afresh.
    if (into.scaler && state.grad_scaler) {
      into.scaler.loadState(state.grad_scaler as GradScalerState);
    }
  } catch (e) {
    // Only the restorers' own refusals ("Cannot restore …") are a damaged state; anything else
    // is a bug and travels on as it is.
    const message = (e as Error)?.message ?? "";
    if (!(e instanceof TypeError) || !/^Cannot (restore|load) /.test(message)) throw e;
    refuse(file, message.replace(/^Cannot /, "cannot "), e);
  }
  into.seeds.state = state.dropout_seed_state as number;
}

/**
 * Everything `Trainer.resume` restores besides the model: the optimizer's moments (sizes checked
 * first), the sampler, seed stream and scaler (`restoreHostState`), and the zeroed gradients of
 * the parameters AdamW has stepped. Such a parameter keeps its gradient buffer between steps and
 * AdamW goes on updating it while its task sits out a batch (PyTorch's AdamW after `zero_grad()`
 * without `set_to_none`), so a resumed run needs the same buffers to stay exact.
 *
 * @throws {CheckpointError} naming the checkpoint file at fault
 */
export function restoreTrainingState(
  dir: string,
  saved: { state: TrainerStateJson; optimizer: AdamWState },
  into: HostTrainingState & { optimizer: AdamW; params: readonly Tensor[]; names: string[] },
): void {
  const { params } = into;
  checkOptimizerSizes(saved.optimizer, {
    file: `${dir}/optimizer.safetensors`,
    names: into.names,
    sizes: params.map((p) => p.size),
  });
  restoreHostState(saved.state, into, `${dir}/${TRAINER_STATE}`);
  into.optimizer.loadState(saved.optimizer);
  saved.optimizer.params.forEach((s, i) => {
    if (!s || params[i].grad) return;
    // Zeros as `zeroGrad` leaves them, so that the next backward takes its gradient in as it
    // does in the run that saved the checkpoint.
    const grad = new Tensor(params[i].gpu, params[i].shape, { persistent: true });
    grad.fillLater(0);
    params[i].grad = grad;
  });
}
