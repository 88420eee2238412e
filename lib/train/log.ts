/**
 * Run outputs in the usual formats: one JSON object per logged step (`log_history.jsonl`),
 * HF's `eval_results_<task>.txt` (`key = value` lines), and atomically written JSON files.
 *
 * @module
 */

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes `value` as indented JSON to `path` (temporary file, then rename). */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Appends one JSON line to `path`; each line is written whole with one append. */
export async function appendJsonl(path: string, record: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { append: true, create: true });
}

/** HF's `eval_results_<task>.txt`: one `key = value` line per metric, keys sorted. */
export async function writeEvalResults(
  dir: string,
  task: string,
  metrics: Record<string, number>,
): Promise<string> {
  const path = `${dir}/eval_results_${task}.txt`;
  const lines = Object.keys(metrics).sort().map((k) => `${k} = ${metrics[k]}`);
  await writeAtomic(path, lines.join("\n") + "\n");
  return path;
}
