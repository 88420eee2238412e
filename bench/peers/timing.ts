/**
 * What every peer benchmark shares: the case interface each implementation file provides, the
 * interleaved timing loop (warm-ups, then rep by rep in rotating order so that every
 * implementation sees the same machine load) and the median/min/max summary.
 *
 * @module
 */

/** One prepared workload: `run` does the work once and resolves when the device is done. */
export interface Case {
  run(): Promise<void>;
  dispose(): void;
}

/** Shapes of the BERT encoder layer and of the small training model. */
export interface LayerShape {
  /** Batch. */
  B: number;
  /** Sequence length. */
  T: number;
  /** Hidden size. */
  H: number;
  /** Attention heads. */
  heads: number;
  /** Feed-forward width. */
  ffn: number;
}

/** A full training step: `layers` encoder layers, a [CLS] classifier with `classes` outputs. */
export interface StepShape extends LayerShape {
  layers: number;
  classes: number;
  vocab: number;
}

/** One implementation under test. Each method prepares its inputs outside the timed part. */
export interface Impl {
  /** Name printed and written to JSON (`camtl`, `tfjs-webgpu`, `jaxjs-webgpu`, …). */
  name: string;
  /** f32 `[S, S] · [S, S]`. */
  matmul(S: number): Promise<Case>;
  /** One encoder layer, gradient of `sum(output)` w.r.t. every parameter. */
  bertLayer(shape: LayerShape): Promise<Case>;
  /** Forward, backward and AdamW on a classification loss; absent where not implemented. */
  trainStep?(shape: StepShape): Promise<Case>;
}

/** Median, minimum and maximum of one implementation's reps, in ms. */
export interface Stats {
  median: number;
  min: number;
  max: number;
}

/** Median (upper middle for even counts), minimum and maximum. */
export function stats(times: number[]): Stats {
  const t = [...times].sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1] };
}

/** The 1, 5 and 15 minute load averages, as printed next to every timing (lavapipe's speed moves with them). */
export function loadAverage(): string {
  return Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
}

/** Milliseconds one `run()` takes, from before the work is queued until the device is done. */
export async function timeOnce(c: Case): Promise<number> {
  const t0 = performance.now();
  await c.run();
  return performance.now() - t0;
}

/**
 * Runs `warmup` untimed rounds, then `reps` timed rounds; in round r the implementations go in
 * order rotated by r, so none is always first or last.
 */
export async function interleave(
  cases: Record<string, Case>,
  warmup: number,
  reps: number,
): Promise<Record<string, Stats>> {
  const names = Object.keys(cases);
  for (let i = 0; i < warmup; i++) for (const n of names) await cases[n].run();
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < reps; r++) {
    const k = r % names.length;
    for (const n of [...names.slice(k), ...names.slice(0, k)]) {
      times[n].push(await timeOnce(cases[n]));
    }
  }
  return Object.fromEntries(names.map((n) => [n, stats(times[n])]));
}

/**
 * Parses `--reps N` (at least 5), `--warmup N`, `--json`, `--only a,b` and `--skip a,b`
 * (implementation names), and `--torch` (also on with `--only …,torch-cpu`, off with
 * `--skip torch-cpu`).
 */
export function parseArgs(args: string[], usage: string): {
  json: boolean;
  torch: boolean;
  reps: number;
  warmup: number;
  only?: string[];
  skip: string[];
} {
  const value = (flag: string): string | undefined =>
    args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;
  const reps = Number(value("--reps") ?? 5), warmup = Number(value("--warmup") ?? 2);
  if (!Number.isInteger(reps) || !Number.isInteger(warmup) || warmup < 0) {
    console.error(usage);
    Deno.exit(2);
  }
  const only = value("--only")?.split(","), skip = value("--skip")?.split(",") ?? [];
  return {
    json: args.includes("--json"),
    torch: (args.includes("--torch") || only?.includes("torch-cpu") === true) &&
      !skip.includes("torch-cpu"),
    reps: Math.max(5, reps),
    warmup,
    only,
    skip,
  };
}
