/**
 * Device health: errors the device raises outside any error scope (out of memory, validation)
 * and device loss, turned into exceptions at points the program already passes, so that a run
 * stops with a message instead of computing on garbage or waiting forever.
 *
 * - Uncaptured errors arrive as events; the first is kept and thrown at the next readback
 *   (`Recorder.readMany`), which costs nothing per dispatch.
 * - Device loss (`GPUDevice.lost`) makes every later dispatch or readback throw at once, and a
 *   readback already waiting for its map gives up when the loss arrives.
 *
 * @module
 */

import { GpuDeviceError, GpuDeviceLostError, GpuMemoryError, LOWER_SIZES_FIX } from "./errors.ts";

/** Watches one device for loss and uncaptured errors. */
export class DeviceHealth {
  readonly #waiters = new Set<(e: GpuDeviceLostError) => void>();
  #lost: GpuDeviceLostError | null = null;
  #pending: Error | null = null;

  constructor(device: GPUDevice) {
    device.lost.then((info) => {
      const lost = new GpuDeviceLostError(info.reason ?? "unknown", info.message ?? "");
      this.#lost = lost;
      for (const reject of this.#waiters) reject(lost);
    });
    device.addEventListener("uncapturederror", (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      event.preventDefault();
      this.#pending ??= error instanceof GPUOutOfMemoryError
        ? new GpuMemoryError(
          `Cannot continue: the GPU ran out of memory (${error.message}); ${LOWER_SIZES_FIX}`,
        )
        : new GpuDeviceError(
          `Cannot trust the GPU results: the device reported "${error.message}"`,
        );
    });
  }

  /** True once the device is lost or destroyed. */
  get lost(): boolean {
    return this.#lost !== null;
  }

  /** @throws {GpuDeviceLostError} once the device is lost */
  assertAlive(): void {
    if (this.#lost) throw this.#lost;
  }

  /**
   * Throws (once) the first uncaptured device error since the last call.
   *
   * @throws {GpuMemoryError} for out-of-memory, {GpuDeviceError} for other errors
   */
  check(): void {
    const error = this.#pending;
    this.#pending = null;
    if (error) throw error;
  }

  /** `promise`, or the loss error if the device is lost first. */
  async unlessLost<T>(promise: Promise<T>): Promise<T> {
    this.assertAlive();
    let reject!: (e: GpuDeviceLostError) => void;
    const lost = new Promise<never>((_, r) => reject = r);
    this.#waiters.add(reject);
    try {
      return await Promise.race([promise, lost]);
    } catch (e) {
      throw e instanceof GpuDeviceLostError ? e : await this.#explain(e);
    } finally {
      this.#waiters.delete(reject);
    }
  }

  /**
   * Why a wait failed: a map fails as soon as the device is destroyed, while the loss itself is
   * announced a moment later; give it that moment, so the message names the real cause.
   */
  async #explain(error: unknown): Promise<Error> {
    for (let i = 0; i < 20 && !this.#lost; i++) await new Promise((r) => setTimeout(r, 10));
    return this.#lost ??
      new GpuDeviceError(`Cannot read back from the GPU: ${(error as Error)?.message ?? error}`);
  }
}
