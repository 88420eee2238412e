/**
 * `AdamW`: the optimizer of Hugging Face transformers 2.11 (`correct_bias=True`), with one
 * fused in-place `adamw_update` dispatch per large parameter (`kernels/adamw.ts`; its vec4 form
 * when the size is a multiple of 4) and one `adamw_multi` dispatch per group of small ones
 * (`kernels/multi_tensor.ts`). The moments m and
 * v live on the GPU for the life of the optimizer; the learning rate is a uniform, so a
 * scheduler may change it every step at no cost.
 *
 * @module
 */

import { adamwParams, type AdamWStep, adamwUpdate, adamwUpdateVec4 } from "../../kernels/adamw.ts";
import { adamwMulti } from "../../kernels/multi_tensor.ts";
import { groupBindings, groupSize, smallGroups } from "../ops/foreach.ts";
import { assertDType, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { zeros } from "../autograd/accumulate.ts";
import { type Parameters, parameterTensors, type ParamGroup } from "./params.ts";

/**
 * Optimizer hyper-parameters; `betas`, `eps` and `weightDecay` default to (0.9, 0.999), 1e-8
 * and 0.
 */
export interface AdamWOptions {
  /**
   * Weight decay of parameters given without their own (a module, parameters or tensors);
   * `{ param, weightDecay }` entries keep theirs. Default 0.
   */
  weightDecay?: number;
  /** Initial learning rate (≥ 0); `step(lr)` replaces it. */
  lr: number;
  /** (β1, β2), each in [0, 1). */
  betas?: [number, number];
  /** Added to √v in the denominator. */
  eps?: number;
}

/** Host copy of one parameter's optimizer state (`exp_avg`, `exp_avg_sq`, `step`). */
export interface AdamWParamState {
  /** Updates this parameter has had (its bias-correction step t). */
  step: number;
  /** First moment (`exp_avg`), flat. */
  m: Float32Array;
  /** Second moment (`exp_avg_sq`), flat. */
  v: Float32Array;
}

/**
 * Host copy of the whole optimizer state, for checkpoints: the number of `step()` calls and,
 * in constructor order, each parameter's state (`null` for one that never had a gradient).
 */
export interface AdamWState {
  /** Number of `step()` calls. */
  step: number;
  /** Per parameter, in constructor order; `null` before its first update. */
  params: (AdamWParamState | null)[];
}

/** `{ param, weightDecay }` entries as given; anything else through `parameterTensors`. */
function asGroups(params: readonly ParamGroup[] | Parameters, weightDecay: number): ParamGroup[] {
  if (Array.isArray(params) && params.every((p) => p && typeof p === "object" && "param" in p)) {
    return params as ParamGroup[];
  }
  return parameterTensors(params as Parameters, "create AdamW").map((param) => ({
    param,
    weightDecay,
  }));
}

function checkLr(lr: number): void {
  if (!(lr >= 0) || !Number.isFinite(lr)) {
    throw new RangeError(`Cannot step AdamW: learning rate is ${lr}, expected a finite lr ≥ 0`);
  }
}

/**
 * AdamW with decoupled weight decay, as in transformers 2.11: per parameter with a gradient,
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·√(1−β2^t)/(1−β1^t) · m/(√v + eps), then
 * p ← p − lr·wd·p when wd > 0. Parameters whose `grad` is null (frozen) are skipped and keep
 * their own step count, as in PyTorch. Moments are allocated at a parameter's first update.
 *
 * @example A training step
 * ```ts ignore
 * const opt = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr: 2e-5 });
 * backward(loss);
 * clipGradNorm(model, 1.0);
 * opt.step(schedule.lr(step));
 * zeroGrad(model);
 * ```
 */
export class AdamW {
  /** The parameters in constructor order. */
  readonly params: readonly ParamGroup[];
  /** Learning rate of the next `step()` without an argument (updated by `step(lr)`). */
  lr: number;
  /** Decay rate of the first moment. */
  readonly beta1: number;
  /** Decay rate of the second moment. */
  readonly beta2: number;
  /** Added to √v in the denominator. */
  readonly eps: number;
  #step = 0;
  #disposed = false;
  readonly #steps: number[];
  readonly #m: (Tensor | null)[];
  readonly #v: (Tensor | null)[];

  /**
   * Creates the optimizer; moments are allocated at each parameter's first update.
   *
   * @throws {TypeError} when a parameter is not f32.
   * @throws {RangeError} for lr < 0, betas outside [0, 1), eps < 0 or weight decay < 0.
   */
  constructor(
    params: readonly ParamGroup[] | Parameters,
    { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 }: AdamWOptions,
  ) {
    checkLr(lr);
    params = asGroups(params, weightDecay);
    const [beta1, beta2] = betas;
    for (const b of [beta1, beta2]) {
      if (!(b >= 0 && b < 1)) {
        throw new RangeError(`Cannot create AdamW: beta ${b} is outside [0, 1)`);
      }
    }
    if (!(eps >= 0)) throw new RangeError(`Cannot create AdamW: eps is ${eps}, expected ≥ 0`);
    params.forEach(({ param, weightDecay }, i) => {
      assertDType(param, "f32", "create AdamW", param.name ?? `params[${i}]`);
      if (!(weightDecay >= 0)) {
        throw new RangeError(
          `Cannot create AdamW: weight decay of "${param.name ?? `params[${i}]`}" is ` +
            `${weightDecay}, expected ≥ 0`,
        );
      }
    });
    this.params = params.map((p) => ({ ...p }));
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.#steps = params.map(() => 0);
    this.#m = params.map(() => null);
    this.#v = params.map(() => null);
  }

  /** Number of `step()` calls so far. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * Records one update of every parameter that has a gradient, with learning rate `lr`
   * (default: the current `lr`, which `lr` replaces). Nothing is read back.
   *
   * @throws {RangeError} when `lr` is negative or not finite.
   * @throws {Error} after `dispose()`.
   */
  step(lr: number = this.lr): void {
    if (this.#disposed) throw new Error("Cannot step AdamW: it was disposed");
    checkLr(lr);
    this.lr = lr;
    this.#step++;
    // Parameters with a gradient this step: each with its moments and its own step count.
    const due: { tensor: Tensor; grad: Tensor; m: Tensor; v: Tensor; hyper: AdamWStep }[] = [];
    this.params.forEach(({ param, weightDecay }, i) => {
      const grad = param.grad;
      if (!grad) return;
      due.push({
        tensor: param,
        grad,
        m: this.#m[i] ??= zeros(param.gpu, param.shape, { persistent: true }),
        v: this.#v[i] ??= zeros(param.gpu, param.shape, { persistent: true }),
        hyper: {
          lr,
          beta1: this.beta1,
          beta2: this.beta2,
          eps: this.eps,
          weightDecay,
          step: ++this.#steps[i],
        },
      });
    });
    if (due.length === 0) return;
    // Small parameters several to a dispatch (four bindings each), the others one each.
    const { groups, large } = smallGroups(due, groupSize(due[0].tensor.gpu, 4));
    for (const group of groups) {
      const bound: Record<string, Tensor> = {};
      const perTensor: Record<string, number> = {};
      group.forEach(({ tensor, grad, m, v, hyper }, j) => {
        Object.assign(bound, { [`p${j}`]: tensor, [`g${j}`]: grad, [`m${j}`]: m, [`v${j}`]: v });
        const u = adamwParams(tensor.size, hyper);
        perTensor[`ss${j}`] = u.step_size;
        perTensor[`dec${j}`] = u.decay;
      });
      const shared = adamwParams(0, group[0].hyper);
      dispatch(adamwMulti(group.length), bound, {
        ...groupBindings(group).offsets,
        beta1: shared.beta1,
        beta2: shared.beta2,
        one_minus_beta1: shared.one_minus_beta1,
        one_minus_beta2: shared.one_minus_beta2,
        eps: shared.eps,
        ...perTensor,
      });
    }
    for (const { tensor: param, grad, m, v, hyper } of large) {
      const vec4 = param.size % 4 === 0;
      const uniforms = adamwParams(vec4 ? param.size / 4 : param.size, hyper);
      const clip = grad.takeClip(); // clipGradNorm's scaling, applied as the update reads g
      dispatch(vec4 ? adamwUpdateVec4 : adamwUpdate, {
        param,
        grad,
        m,
        v,
        norm: clip?.norm ?? grad,
      }, {
        ...uniforms,
        clip_on: clip ? 1 : 0,
        max_norm: clip?.maxNorm ?? 0,
      });
      clip?.norm.dispose();
    }
  }

  /** Host copies of the moments and step counts (reads the GPU; for checkpoints). */
  async state(): Promise<AdamWState> {
    const params: (AdamWParamState | null)[] = [];
    for (let i = 0; i < this.params.length; i++) {
      const m = this.#m[i], v = this.#v[i];
      params.push(
        m && v ? { step: this.#steps[i], m: await m.readFloat(), v: await v.readFloat() } : null,
      );
    }
    return { step: this.#step, params };
  }

  /**
   * Restores a state from `state()` of an optimizer over the same parameters.
   *
   * @throws {TypeError} when the parameter count or a moment's size differs.
   */
  loadState(state: AdamWState): void {
    if (state.params.length !== this.params.length) {
      throw new TypeError(
        `Cannot load AdamW state: it has ${state.params.length} parameters, the optimizer ` +
          `has ${this.params.length}`,
      );
    }
    state.params.forEach((s, i) => {
      const { param } = this.params[i];
      if (s && (s.m.length !== param.size || s.v.length !== param.size)) {
        throw new TypeError(
          `Cannot load AdamW state: moments of "${param.name ?? `params[${i}]`}" have ` +
            `${s.m.length} and ${s.v.length} values, the parameter has ${param.size}`,
        );
      }
    });
    this.#step = state.step;
    state.params.forEach((s, i) => {
      const { param } = this.params[i];
      if (!s) {
        this.#m[i]?.dispose();
        this.#v[i]?.dispose();
        this.#m[i] = this.#v[i] = null;
        this.#steps[i] = 0;
        return;
      }
      (this.#m[i] ??= zeros(param.gpu, param.shape, { persistent: true })).write(s.m);
      (this.#v[i] ??= zeros(param.gpu, param.shape, { persistent: true })).write(s.v);
      this.#steps[i] = s.step;
    });
  }

  /** Releases the moments' GPU memory; the optimizer cannot step afterwards. */
  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t?.dispose();
    this.#m.fill(null);
    this.#v.fill(null);
    this.#disposed = true;
  }
}
