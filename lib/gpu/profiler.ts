/**
 * A kernel profiler built on timestamp queries: while it is on, the recorder gives every dispatch
 * its own compute pass whose start and end the GPU stamps, so each kernel's device time can be
 * read back and summed by name — the WebGPU counterpart of `torch.profiler`'s kernel table.
 *
 * Profiling changes what it measures a little: one pass per dispatch costs lavapipe more than one
 * pass per submit, which shows in wall time but not inside each pass's stamps.
 *
 * @module
 */

/** One profiled dispatch. */
export interface KernelTiming {
  /** The kernel's name (`defineKernel`'s `name`). */
  name: string;
  /** Workgroups dispatched, `[x, y, z]`. */
  grid: [number, number, number];
  /** Device time between the pass's start and end stamps, in milliseconds. */
  ms: number;
}

/** Per-kernel totals, largest first. */
export interface KernelSummary {
  /** The grouping key: the kernel's name, or whatever key `summarizeTimings` was given. */
  name: string;
  /** Dispatches counted under this key. */
  calls: number;
  /** Their summed device time, in milliseconds. */
  totalMs: number;
  /** Share of the profiled total, 0..1. */
  share: number;
}

/** Dispatches stamped per query set before the recorder must submit. */
export const PROFILE_SLOTS = 1024;

interface Stamped {
  name: string;
  grid: [number, number, number];
}

interface Pending {
  names: Stamped[];
  readback: GPUBuffer;
}

/** Collects pass timestamps for the recorder; see {@linkcode Recorder.startProfile}. */
export class Profiler {
  readonly #device: GPUDevice;
  readonly #queries: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  #names: Stamped[] = [];
  #pending: Pending[] = [];

  constructor(device: GPUDevice) {
    if (!device.features.has("timestamp-query")) {
      throw new Error(
        "Cannot profile kernels: the device lacks the timestamp-query feature; request it with " +
          'requestGpu({ optionalFeatures: ["timestamp-query"] }) on an adapter that has it',
      );
    }
    this.#device = device;
    this.#queries = device.createQuerySet({ type: "timestamp", count: 2 * PROFILE_SLOTS });
    this.#resolve = device.createBuffer({
      size: 16 * PROFILE_SLOTS,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** True when every slot of the current submit is taken. */
  get full(): boolean {
    return this.#names.length === PROFILE_SLOTS;
  }

  /** The timestamp writes for the next dispatch, of kernel `name` over `grid` workgroups. */
  next(name: string, grid: [number, number, number]): GPUComputePassTimestampWrites {
    const i = this.#names.push({ name, grid }) - 1;
    return {
      querySet: this.#queries,
      beginningOfPassWriteIndex: 2 * i,
      endOfPassWriteIndex: 2 * i + 1,
    };
  }

  /** Records the resolve of this submit's stamps into `encoder`, before it is finished. */
  resolve(encoder: GPUCommandEncoder): void {
    const count = this.#names.length;
    if (count === 0) return;
    const readback = this.#device.createBuffer({
      size: 16 * count,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.#queries, 0, 2 * count, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, readback, 0, 16 * count);
    this.#pending.push({ names: this.#names, readback });
    this.#names = [];
  }

  /** Reads every resolved stamp back (call after the last submit) and frees the GPU objects. */
  async collect(): Promise<KernelTiming[]> {
    const out: KernelTiming[] = [];
    for (const { names, readback } of this.#pending) {
      await readback.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(readback.getMappedRange());
      names.forEach(({ name, grid }, i) => {
        const ns = stamps[2 * i + 1] - stamps[2 * i];
        out.push({ name, grid, ms: Number(ns > 0n ? ns : 0n) / 1e6 });
      });
      readback.unmap();
      readback.destroy();
    }
    this.#pending = [];
    this.#queries.destroy();
    this.#resolve.destroy();
    return out;
  }
}

/**
 * Sums `timings` by `key` (default: the kernel's name; {@linkcode byGrid} keeps launches of
 * different sizes apart), largest total first. The timings come from `gpu.recorder.stopProfile()`.
 *
 * @example A kernel table
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSummary, summarizeTimings } from "./profiler.ts";
 * const summary = summarizeTimings([
 *   { name: "matmul", grid: [4, 4, 1], ms: 3 },
 *   { name: "gelu", grid: [8, 1, 1], ms: 1 },
 *   { name: "matmul", grid: [4, 4, 1], ms: 4 },
 * ]);
 * assert.deepEqual(summary[0], { name: "matmul", calls: 2, totalMs: 7, share: 0.875 });
 * console.log(formatSummary(summary));
 * ```
 */
export function summarizeTimings(
  timings: readonly KernelTiming[],
  key: (t: KernelTiming) => string = (t) => t.name,
): KernelSummary[] {
  const byName = new Map<string, { calls: number; totalMs: number }>();
  let total = 0;
  for (const t of timings) {
    const name = key(t), ms = t.ms;
    const s = byName.get(name) ?? { calls: 0, totalMs: 0 };
    s.calls++;
    s.totalMs += ms;
    total += ms;
    byName.set(name, s);
  }
  return [...byName].map(([name, s]) => ({ name, ...s, share: total > 0 ? s.totalMs / total : 0 }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** A {@linkcode summarizeTimings} key: the kernel's name and its grid, e.g. `matmul_nt 4x16x1`. */
export const byGrid = (t: KernelTiming): string => `${t.name} ${t.grid.join("x")}`;

/**
 * A fixed-width text table of `summary` (kernel, calls, total ms, share), as `torch.profiler`'s
 * `key_averages().table()`.
 *
 * @example Profile a few matmuls
 * ```ts ignore
 * gpu.recorder.startProfile();
 * for (let i = 0; i < 10; i++) matmul({ a, b });
 * console.log(formatSummary(summarizeTimings(await gpu.recorder.stopProfile())));
 * ```
 */
export function formatSummary(summary: readonly KernelSummary[]): string {
  const width = Math.max(6, ...summary.map((s) => s.name.length));
  const lines = [`${"kernel".padEnd(width)}  calls   total ms  share`];
  for (const s of summary) {
    lines.push(
      `${s.name.padEnd(width)}  ${String(s.calls).padStart(5)}  ${
        s.totalMs.toFixed(2).padStart(9)
      }` +
        `  ${(100 * s.share).toFixed(1).padStart(4)}%`,
    );
  }
  return lines.join("\n");
}
