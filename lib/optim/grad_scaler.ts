/**
 * `GradScaler`: dynamic loss scaling for `--fp16`, as `torch.cuda.amp.GradScaler` and apex AMP
 * (the `--fp16` of transformers 2.11) do it. The loss is multiplied by `scale` before backward,
 * so that small gradients survive their f16 rounding; the gradients are divided by it again
 * before clipping and the optimizer step. If any gradient is inf or NaN (a scaled value passed
 * 65504, f16's largest), the step is skipped and the scale halved; after `growthInterval`
 * clean steps in a row it doubles. Defaults are PyTorch's: 2¹⁶, ×2, ×0.5, 2000.
 *
 * Finiteness is decided from the global gradient norm, computed on the GPU: an inf or NaN
 * anywhere makes it non-finite. That one number (4 bytes) is read back every step, because the
 * host must know whether to record the optimizer step (and so advance AdamW's bias-correction
 * step count) — PyTorch syncs at the same point (`found_inf.item()` in `GradScaler.step`, apex
 * in `update_scale`). The division by the scale is folded into the clip factor, so unscaling
 * and clipping are one pass over each gradient.
 *
 * @module
 */

import { gradScale } from "../../kernels/grad_scale.ts";
import { CLIP_EPS } from "../../kernels/global_norm.ts";
import type { Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { scale as scaleOp } from "../ops/elementwise.ts";
import { globalNorm } from "../ops/global_norm.ts";

/** Settings of {@linkcode GradScaler}; PyTorch's names and defaults. */
export interface GradScalerOptions {
  /** Initial loss scale. Default 2¹⁶. */
  initScale?: number;
  /** Factor applied after `growthInterval` clean steps. Default 2. */
  growthFactor?: number;
  /** Factor applied on a step with inf/NaN gradients. Default 0.5. */
  backoffFactor?: number;
  /** Clean steps in a row before the scale grows. Default 2000. */
  growthInterval?: number;
}

/** Checkpoint state, with the keys of PyTorch's `GradScaler.state_dict()`. */
export interface GradScalerState {
  /** The current loss scale. */
  scale: number;
  /** {@linkcode GradScalerOptions.growthFactor}. */
  growth_factor: number;
  /** {@linkcode GradScalerOptions.backoffFactor}. */
  backoff_factor: number;
  /** {@linkcode GradScalerOptions.growthInterval}. */
  growth_interval: number;
  /** Clean steps in a row since the last change of scale. */
  _growth_tracker: number;
}

/** What {@linkcode GradScaler.unscaleAndClip} found. */
export interface UnscaleResult {
  /** Global L2 norm of the unscaled gradients, before clipping (inf or NaN on overflow). */
  norm: number;
  /** False when some gradient was inf or NaN: skip this step. */
  finite: boolean;
}

function check(name: string, value: number, ok: boolean, expected: string): void {
  if (!ok || !Number.isFinite(value)) {
    throw new RangeError(`Cannot create GradScaler: ${name} is ${value}, expected ${expected}`);
  }
}

/**
 * Dynamic loss scaler.
 *
 * @example A mixed-precision step
 * ```ts ignore
 * const scaler = new GradScaler();
 * const loss = await withAutocast(gpu, () => model.forward(batch).loss!);
 * backward(scaler.scaleLoss(loss));
 * const { finite } = await scaler.unscaleAndClip(params, 1.0);
 * if (finite) optimizer.step(lr);
 * scaler.update(finite);
 * zeroGrad(params);
 * ```
 */
export class GradScaler {
  /** The current loss scale. */
  scale: number;
  /** Factor applied after `growthInterval` clean steps. */
  readonly growthFactor: number;
  /** Factor applied on a step with inf/NaN gradients. */
  readonly backoffFactor: number;
  /** Clean steps in a row before the scale grows. */
  readonly growthInterval: number;
  /** Clean steps in a row since the last change of scale. */
  growthTracker = 0;
  /** Steps skipped for inf/NaN gradients since this scaler was made (not checkpointed). */
  skippedSteps = 0;

  /**
   * Makes a scaler with PyTorch's defaults for anything not given.
   *
   * @throws {RangeError} for a non-positive scale or interval, or factors on the wrong side of 1.
   */
  constructor(
    { initScale = 2 ** 16, growthFactor = 2, backoffFactor = 0.5, growthInterval = 2000 }:
      GradScalerOptions = {},
  ) {
    check("initScale", initScale, initScale > 0, "a number > 0");
    check("growthFactor", growthFactor, growthFactor > 1, "a number > 1");
    check(
      "backoffFactor",
      backoffFactor,
      backoffFactor > 0 && backoffFactor < 1,
      "a number in (0, 1)",
    );
    check(
      "growthInterval",
      growthInterval,
      Number.isInteger(growthInterval) && growthInterval >= 1,
      "an integer ≥ 1",
    );
    this.scale = initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
  }

  /** `loss · scale`, recorded for backward (so every gradient comes out scaled). */
  scaleLoss(loss: Tensor): Tensor {
    return scaleOp({ a: loss }, { s: this.scale });
  }

  /**
   * Divides every gradient of `params` by the scale and, when `maxNorm > 0`, clips them to
   * global norm `maxNorm` (PyTorch `clip_grad_norm_` on the unscaled gradients), in one pass.
   * Reads back the 4-byte norm. On overflow the gradients are left as they are.
   *
   * @throws {TypeError} when `params` is empty.
   */
  async unscaleAndClip(params: Tensor[], maxNorm: number): Promise<UnscaleResult> {
    if (params.length === 0) {
      throw new TypeError("Cannot unscale gradients: no parameters were given");
    }
    const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
    const scaled = globalNorm(grads, params[0].gpu);
    const norm = (await scaled.readFloat())[0] / this.scale;
    scaled.dispose();
    if (!Number.isFinite(norm)) return { norm, finite: false };
    const clip = maxNorm > 0 ? Math.min(1, maxNorm / (norm + CLIP_EPS)) : 1;
    const factor = clip / this.scale;
    for (const grad of grads) dispatch(gradScale, { grad }, { n: grad.size, factor });
    return { norm, finite: true };
  }

  /** Halves the scale after an overflow; grows it after `growthInterval` clean steps. */
  update(finite: boolean): void {
    if (!finite) {
      this.scale *= this.backoffFactor;
      this.growthTracker = 0;
      this.skippedSteps++;
    } else if (++this.growthTracker === this.growthInterval) {
      this.scale *= this.growthFactor;
      this.growthTracker = 0;
    }
  }

  /** The state to checkpoint (JSON-safe). */
  state(): GradScalerState {
    return {
      scale: this.scale,
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker,
    };
  }

  /**
   * Restores the scale and growth tracker of `state()` (the factors and interval stay this
   * scaler's own, as they come from the command line).
   *
   * @throws {TypeError} when the state's scale or tracker is not a valid number.
   */
  loadState(state: GradScalerState): void {
    const { scale, _growth_tracker: tracker } = state;
    if (!(scale > 0) || !Number.isFinite(scale) || !Number.isInteger(tracker) || tracker < 0) {
      throw new TypeError(
        `Cannot load GradScaler state: scale ${scale} and growth tracker ${tracker} are not a ` +
          `positive scale and a count`,
      );
    }
    this.scale = scale;
    this.growthTracker = tracker;
  }
}
