/**
 * A loopback (127.0.0.1) HTTP server of in-memory files for download tests: `Range: bytes=N-`
 * requests get 206 answers, every request is logged, and a file can be set to break off after
 * some bytes, once (a dropped connection) or for good (the server shuts down mid-file).
 *
 * @module
 */

/** One request the server saw. */
export interface Served {
  path: string;
  /** The `Range` header, if any. */
  range: string | null;
}

/** How a file's first answer ends early. */
export interface Breakage {
  /** Bytes sent before the connection is cut. */
  after: number;
  /** Shut the whole server down then (a server that dies), instead of one dropped answer. */
  die?: boolean;
}

/** A running server; `close()` it. */
export interface FileServer {
  baseUrl: string;
  requests: Served[];
  /** Resolves once the server has stopped (after `close()` or a `die` breakage). */
  finished: Promise<void>;
  close(): Promise<void>;
}

/** Serves `files` (path without the leading slash → bytes). */
export function serveFiles(
  files: ReadonlyMap<string, Uint8Array>,
  breakages: ReadonlyMap<string, Breakage> = new Map(),
): FileServer {
  const requests: Served[] = [];
  const pending = new Map(breakages);
  const handler = (req: Request): Response => {
    const path = new URL(req.url).pathname.slice(1);
    const range = req.headers.get("range");
    requests.push({ path, range });
    const body = files.get(path);
    if (body === undefined) return new Response("not found", { status: 404 });
    const start = range === null ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? NaN);
    if (!(start >= 0 && start <= body.length) || (range !== null && start === body.length)) {
      return new Response(null, {
        status: 416,
        headers: { "content-range": `bytes */${body.length}` },
      });
    }
    const headers: Record<string, string> = { "content-length": String(body.length - start) };
    if (range !== null) {
      headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const status = range === null ? 200 : 206;
    const broken = pending.get(path);
    if (broken === undefined) return new Response(body.slice(start), { status, headers });
    pending.delete(path);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body.slice(start, Math.max(start, broken.after)));
      },
      async pull(controller) {
        // Give the first bytes time to leave, then cut the connection.
        await new Promise((r) => setTimeout(r, 50));
        controller.error(new Error("test server: connection cut on purpose, mid-file"));
        if (broken.die) server.shutdown();
      },
    });
    return new Response(stream, { status, headers });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    requests,
    finished: server.finished,
    close: () => server.shutdown(),
  };
}
