/**
 * A run's TensorBoard log: the trainer's {@linkcode LogRecord}s as scalars in `--logging_dir`,
 * plus the run's arguments as text, as transformers 2.11's Trainer writes them (`add_text("args",
 * …)` once, then `add_scalar(key, value, global_step)` for each logged value).
 *
 * Tags: `loss`, `learning_rate`, `epoch`, `examples_per_second`, `loss_scale` (`--fp16`),
 * `candidate_fraction` (MT-Uncertainty), `task_mix/<task>` (the fraction of the training
 * examples drawn so far that came from each task), `eval/<task>/<metric>` (dev metrics, with
 * `eval_loss`) and `best/<task>/<metric>` (the best value so far of each).
 *
 * @module
 */

import { SummaryWriter } from "./tensorboard.ts";
import type { LogRecord } from "./log.ts";

/** Log-record fields that are scalars as they stand. */
const PLAIN = [
  "loss",
  "learning_rate",
  "examples_per_second",
  "loss_scale",
  "candidate_fraction",
] as const;

/**
 * The scalars of one log record, by tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordScalars } from "./tensorboard_log.ts";
 * const s = recordScalars({ step: 4, epoch: 0.5, loss: 0.7, sampler: { rte: 24, mrpc: 8 } });
 * assert.deepEqual(s, { epoch: 0.5, loss: 0.7, "task_mix/rte": 0.75, "task_mix/mrpc": 0.25 });
 * ```
 */
export function recordScalars(record: LogRecord): Record<string, number> {
  const out: Record<string, number> = { epoch: record.epoch };
  for (const key of PLAIN) {
    const v = record[key];
    if (v !== undefined) out[key] = v;
  }
  if (record.sampler) {
    const total = Object.values(record.sampler).reduce((a, b) => a + b, 0);
    for (const [task, n] of Object.entries(record.sampler)) {
      out[`task_mix/${task}`] = total > 0 ? n / total : 0;
    }
  }
  for (const group of ["eval", "best"] as const) {
    for (const [task, metrics] of Object.entries(record[group] ?? {})) {
      for (const [key, v] of Object.entries(metrics)) out[`${group}/${task}/${key}`] = v;
    }
  }
  return out;
}

/** The TensorBoard side of a training run. */
export class RunBoard {
  readonly writer: SummaryWriter;

  private constructor(writer: SummaryWriter) {
    this.writer = writer;
  }

  /**
   * Starts an event file in `loggingDir` (null: transformers 2.11's default,
   * `runs/<MonDD_HH-MM-SS>_<host>`) and writes `args` as JSON text at step 0.
   *
   * @param resumeAtStep a resumed run's step: TensorBoard drops what earlier files in the
   *   folder logged after it
   */
  static open(loggingDir: string | null, args: unknown, resumeAtStep = 0): RunBoard {
    const writer = new SummaryWriter(loggingDir ?? undefined, {
      purgeStep: resumeAtStep > 0 ? resumeAtStep + 1 : undefined,
    });
    if (resumeAtStep === 0) {
      writer.addText("args", JSON.stringify(args, null, 2), 0);
    }
    return new RunBoard(writer);
  }

  /** Adds a log record's scalars at its step. */
  append(record: LogRecord): void {
    this.writer.addScalarGroup(recordScalars(record), record.step);
  }

  close(): void {
    this.writer.close();
  }
}
