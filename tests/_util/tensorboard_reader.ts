/**
 * The independent TensorBoard reader for tests: `tests/fixtures/tensorboard_reader.py` under
 * Debian's `/usr/bin/python3` with python3-protobuf. Where either is missing the caller skips
 * with a visible message, unless `CAMTL_REQUIRE_PROTOBUF=1` (CI sets it), which makes it fail.
 *
 * @module
 */

const SCRIPT = new URL("../fixtures/tensorboard_reader.py", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

/** One decoded event. */
export interface ReadEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  session_status?: number;
  values?: {
    tag: string;
    simple_value?: number | string;
    plugin?: string;
    dtype?: number;
    shape?: number[];
    text?: string[];
  }[];
  /** Bytes of a torn last record. */
  torn?: number;
}

/**
 * Decodes an event file with the Python reader; null (after a SKIP message) where Python or
 * python3-protobuf is missing.
 *
 * @throws {Error} with the reader's message when the file is damaged
 */
export async function readEventsIndependently(path: string): Promise<ReadEvent[] | null> {
  const required = Deno.env.get("CAMTL_REQUIRE_PROTOBUF") === "1";
  const skip = (why: string) => {
    if (required) throw new Error(`${why} (CAMTL_REQUIRE_PROTOBUF=1)`);
    console.warn(`SKIP: ${why}; the TensorBoard reader tests need it`);
    return null;
  };
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(PYTHON, { args: [SCRIPT, path], stdout: "piped", stderr: "piped" })
      .output();
  } catch {
    return skip(`${PYTHON} is missing`);
  }
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code === 3) return skip(stderr);
  if (out.code !== 0) throw new Error(`tensorboard_reader.py failed (${out.code}): ${stderr}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
}

/** The single event file in `dir`. */
export function eventFileIn(dir: string): string {
  const files = [...Deno.readDirSync(dir)].filter((e) => e.name.includes("tfevents"));
  if (files.length !== 1) {
    throw new Error(`expected one event file in ${dir}, found ${files.length}`);
  }
  return `${dir}/${files[0].name}`;
}
