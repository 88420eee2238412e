/**
 * `FiniteGuard`: stops f32 training at the first non-finite loss or gradient, naming the step,
 * the task and the last good checkpoint (Hugging Face trains on through NaNs silently).
 *
 * Every step, each task's loss and the gradient norm (which clipping computes anyway) are
 * noted into a 32-byte mark on the GPU (`kernels/nonfinite.ts`); nothing is read back per step.
 * The mark travels with the reads training already does: the loss at logging steps
 * (`readWith`) and the check before a checkpoint is written (`check`), so a bad step is never
 * saved as a checkpoint. Under fp16 the loss scaler skips such steps instead (its own rule), and
 * the trainer does not use a guard.
 *
 * @module
 */

import { MARK_WORDS, noteNonFinite } from "../../kernels/nonfinite.ts";
import { fromArray, type Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { listCheckpoints } from "./checkpoint.ts";

const LOSS = 1, GRADIENT = 2;

/** Training produced an inf or NaN loss or gradient in f32. */
export class NonFiniteError extends Error {
  /** The optimizer step (1-based) whose loss or gradient was not finite. */
  readonly step: number;
  /** The tasks concerned: the task whose loss it was, or the tasks of the batch. */
  readonly tasks: string[];
  /** The newest checkpoint saved before that step, or null. */
  readonly checkpoint: string | null;

  /**
   * Makes the error, with its one-line message.
   *
   * @param what the step, the tasks, whether the loss or the gradient, and the value seen
   * @param checkpoint the newest checkpoint saved before that step, or null
   */
  constructor(
    what: { step: number; tasks: string[]; kind: "loss" | "gradient"; value: number },
    checkpoint: string | null,
  ) {
    const subject = what.kind === "loss"
      ? `the loss of task "${what.tasks[0]}" is ${what.value}`
      : `the gradient norm is ${what.value} (tasks ${what.tasks.map((t) => `"${t}"`).join(", ")} ` +
        `in the batch)`;
    super(
      `Cannot train past step ${what.step}: ${subject} in f32; ` +
        (checkpoint
          ? `the last good checkpoint is "${checkpoint}" (resume from it`
          : `no checkpoint was saved before it (start again`) +
        ` with a lower --learning_rate or --max_grad_norm, or check that task's data)`,
    );
    this.name = "NonFiniteError";
    this.step = what.step;
    this.tasks = what.tasks;
    this.checkpoint = checkpoint;
  }
}

/** The GPU-side mark of a run's first non-finite loss or gradient. */
export class FiniteGuard {
  readonly #mark: Tensor;
  readonly #taskNames: readonly string[];
  readonly #outputDir: string;

  /**
   * @param taskNames names by task id, for messages
   * @param outputDir where the run's checkpoints are, to name the last good one
   */
  constructor(gpu: Gpu, options: { taskNames: readonly string[]; outputDir: string }) {
    this.#mark = fromArray(gpu, new Int32Array(MARK_WORDS), [MARK_WORDS], {
      dtype: "i32",
      persistent: true,
    });
    this.#taskNames = options.taskNames;
    this.#outputDir = options.outputDir;
  }

  /** Notes each task's loss `[1]` of optimizer step `step` (task id → loss). */
  watchLosses(losses: ReadonlyMap<number, Tensor>, step: number): void {
    for (const [taskId, loss] of losses) this.#note(loss, step, LOSS, taskId);
  }

  /** Notes the gradient norm `[1]` of step `step`, with the task ids of its batches. */
  watchGradient(norm: Tensor, step: number, taskIds: Iterable<number>): void {
    let mask = 0;
    for (const t of taskIds) mask |= 1 << (t % 32);
    this.#note(norm, step, GRADIENT, mask >>> 0);
  }

  #note(x: Tensor, step: number, kind: number, tasks: number): void {
    dispatch(noteNonFinite, { x, mark: this.#mark }, { n: x.size, step, kind, tasks });
  }

  /**
   * Reads f32 `tensors` and the mark with one wait.
   *
   * @throws {NonFiniteError} when a step was marked
   */
  async readWith(tensors: readonly Tensor[]): Promise<Float32Array[]> {
    const gpu = this.#mark.gpu;
    const parts = await gpu.recorder.readMany(
      [...tensors, this.#mark].map((t) => ({ buffer: t.buffer, bytes: t.byteLength })),
    );
    await this.#throwIfMarked(new Uint32Array(parts.pop()!));
    return parts.map((b) => new Float32Array(b));
  }

  /** Reads the mark alone (before a checkpoint is saved). @throws {NonFiniteError} */
  async check(): Promise<void> {
    await this.readWith([]);
  }

  async #throwIfMarked(mark: Uint32Array): Promise<void> {
    if (mark[0] === 0) return;
    const [, step, kind, tasks, bits] = mark;
    const names = kind === LOSS
      ? [this.#taskNames[tasks] ?? `#${tasks}`]
      : this.#taskNames.filter((_, i) => (tasks >>> (i % 32)) & 1);
    const value = new Float32Array(Uint32Array.of(bits).buffer)[0];
    const good = (await listCheckpoints(this.#outputDir)).filter((c) => c.step < step).at(-1);
    throw new NonFiniteError(
      { step, tasks: names, kind: kind === LOSS ? "loss" : "gradient", value },
      good?.dir ?? null,
    );
  }

  /** Frees the mark. */
  dispose(): void {
    this.#mark.dispose();
  }
}
