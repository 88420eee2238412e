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

/** The layer benchmark's shape. */
export const LAYER: LayerShape = { B: 8, T: 128, H: 256, heads: 4, ffn: 1024 };

/** The training step's: 4 such layers, V = 1000, 2 classes. */
export const STEP: StepShape = { ...LAYER, layers: 4, classes: 2, vocab: 1000 };

/** The layer benchmark's name, as every side prints it. */
export function layerBench({ B, T, H, heads, ffn }: LayerShape): string {
  return `bert_layer_fwd_bwd[B=${B},T=${T},H=${H},NH=${heads},I=${ffn}]`;
}

/** The training step benchmark's name. */
export function stepBench(s: StepShape): string {
  return `train_step[L=${s.layers},B=${s.B},T=${s.T},H=${s.H},V=${s.vocab},K=${s.classes}]`;
}

const NAME_WIDTH = 56;

/** The table's header line. */
export const TABLE_HEADER = `${"bench".padEnd(NAME_WIDTH)} impl            median ms` +
  "    min ms    max ms  vs camtl";

/** One table row; the ratio is `s.median / base` (camtl's median; > 1: camtl is faster). */
export function tableRow(bench: string, impl: string, s: Stats, base?: number): string {
  const ratio = base ? `${(s.median / base).toFixed(2)}×` : "—";
  return `${bench.padEnd(NAME_WIDTH)} ${impl.padEnd(14)} ${s.median.toFixed(1).padStart(10)} ` +
    `${s.min.toFixed(1).padStart(9)} ${s.max.toFixed(1).padStart(9)} ${ratio.padStart(9)}`;
}

/** One JSON line: `{"bench","impl","adapter","median_ms","min_ms","max_ms"}` and `extra`. */
export function jsonRow(
  bench: string,
  impl: string,
  adapter: string,
  s: Stats,
  extra: Record<string, number> = {},
): string {
  return JSON.stringify({
    bench,
    impl,
    adapter,
    median_ms: s.median,
    min_ms: s.min,
    max_ms: s.max,
    ...extra,
  });
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
