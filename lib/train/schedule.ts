/**
 * The learning-rate schedule of CA-MTL's trainer (docs/model.md §13.2): linear warm-up from 0 to
 * the peak over `warmupProportion · totalSteps` steps, then linear decay to 0 at `totalSteps` —
 * HF's `get_linear_schedule_with_warmup` with the warm-up given as a fraction.
 *
 * @module
 */

/**
 * A linear warm-up, linear decay schedule: from 0 to `peak` over the first
 * `trunc(warmupProportion · totalSteps)` steps, then down to 0 at `totalSteps`, as transformers'
 * `get_linear_schedule_with_warmup`. Pass `lr(step)` to `AdamW.step`.
 *
 * @example Ten steps, two of them warm-up
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinearSchedule } from "./schedule.ts";
 * const schedule = new LinearSchedule(1e-3, 10, 0.2);
 * assert.equal(schedule.warmupSteps, 2);
 * assert.deepEqual([0, 1, 2, 6, 10].map((s) => schedule.lr(s)), [0, 5e-4, 1e-3, 5e-4, 0]);
 * ```
 */
export class LinearSchedule {
  /** The learning rate at the end of warm-up. */
  readonly peak: number;
  /** The step at which the rate reaches 0. */
  readonly totalSteps: number;
  /** `trunc(warmupProportion · totalSteps)`, the steps of the linear rise. */
  readonly warmupSteps: number;

  /**
   * Makes the schedule.
   *
   * @param peak The highest learning rate (> 0).
   * @param totalSteps Optimizer steps of the whole run (≥ 1).
   * @param warmupProportion Fraction of `totalSteps` spent warming up, in [0, 1].
   * @throws {RangeError} for lr ≤ 0, total steps < 1 or a proportion outside [0, 1]
   */
  constructor(peak: number, totalSteps: number, warmupProportion: number) {
    if (!(peak > 0) || !Number.isFinite(peak)) {
      throw new RangeError(`Cannot schedule the learning rate: peak ${peak} is not > 0`);
    }
    if (!(totalSteps >= 1)) {
      throw new RangeError(`Cannot schedule the learning rate: ${totalSteps} total steps`);
    }
    if (!(warmupProportion >= 0 && warmupProportion <= 1)) {
      throw new RangeError(
        `Cannot schedule the learning rate: warmup proportion ${warmupProportion} is outside [0, 1]`,
      );
    }
    this.peak = peak;
    this.totalSteps = totalSteps;
    // HF multiplies the proportion by the total and truncates to an int (the released code).
    this.warmupSteps = Math.trunc(warmupProportion * totalSteps);
  }

  /** The learning rate of optimizer step `step` (0-based: the first update uses step 0). */
  lr(step: number): number {
    if (step < this.warmupSteps) return (this.peak * step) / Math.max(1, this.warmupSteps);
    return this.peak *
      Math.max(0, (this.totalSteps - step) / Math.max(1, this.totalSteps - this.warmupSteps));
  }
}
