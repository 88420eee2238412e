"""Executes one notebook top to bottom in a Jupyter kernel and reports what happened as JSON.

Run with Debian's Python (python3-nbclient, jupyter-client):

    /usr/bin/python3 tests/notebook_runner.py notebooks/03_kernels.ipynb --timeout 300
    /usr/bin/python3 tests/notebook_runner.py --probe

The kernel starts in the notebook's folder. The notebook file is never rewritten. stdout gets
one JSON object:

    {"kernel": {"name", "implementation", "version"},
     "cells": [{"index", "stdout"}],          # every executed code cell, in order
     "error": null | {"index", "source", "ename", "evalue", "traceback"}}

`--probe` prints {"missing": "<what to install>"} when Jupyter or the kernel is missing, and
otherwise starts the kernel and prints {"missing": null, "kernel": {...}}.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import uuid
from queue import Empty

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def probe(kernel):
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError as e:
        return f"{e.name}: apt-get install jupyter-client python3-nbclient jupyter-nbconvert"
    if kernel not in KernelSpecManager().find_kernel_specs():
        return f'Jupyter kernel "{kernel}": run `deno jupyter --install`'
    return None


def late_stream_client(*args, **kwargs):
    """A NotebookClient that keeps the stream output nbclient would drop.

    nbclient reads a cell's outputs until the kernel reports it idle, then ignores whatever else
    comes for that cell. The Deno kernel forwards a cell's console output on its own task, so on a
    loaded machine the last lines can reach iopub after the idle status and are lost, or carry the
    next cell's header. This client records such messages as `late` (parent msg_id, stream, text)
    and remembers which cell each msg_id belongs to.
    """
    from jupyter_core.utils import ensure_async
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    class Client(NotebookClient):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.cell_of_msg = {}
            self.late = []

        # Same loop as nbclient 0.7's, plus the `elif`: the one place iopub is read during a cell.
        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            self.cell_of_msg[parent_msg_id] = cell_index
            while True:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
                if msg["parent_header"].get("msg_id") == parent_msg_id:
                    try:
                        self.process_message(msg, cell, cell_index)
                    except CellExecutionComplete:
                        return
                elif msg["msg_type"] == "stream":
                    self.late.append(stream_record(msg))

    return Client(*args, **kwargs)


def stream_record(msg):
    parent = msg["parent_header"].get("msg_id")
    return parent, msg["content"].get("name"), msg["content"].get("text", "")


async def drain(client, timeout):
    """Runs a cell that prints a marker and reads iopub until the marker arrives.

    The kernel sends console output in the order it was written, so once the marker is in,
    every earlier line is too.
    """
    marker = f"notebook-runner-end-{uuid.uuid4().hex}"
    client.kc.execute(f'console.log("{marker}")', store_history=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"the kernel's output did not finish within {timeout} s")
        try:
            msg = await client.kc.iopub_channel.get_msg(timeout=remaining)
        except Empty:  # the deadline passed
            continue
        if msg["msg_type"] != "stream":
            continue
        parent, name, text = stream_record(msg)
        if marker in text:
            before = text[: text.index(marker)]
            if before:
                client.late.append((parent, name, before))
            return


async def execute(path, kernel, timeout):
    import nbformat

    nb = nbformat.read(path, as_version=4) if path else nbformat.v4.new_notebook()
    client = late_stream_client(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        # A cell's last output can reach iopub well after its reply on a loaded machine; the
        # default 4 s would drop it silently, and with it the cell's CHECK lines.
        iopub_timeout=120,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path or "."))}},
    )
    report = {"kernel": {"name": kernel}, "cells": [], "error": None}
    async with client.async_setup_kernel():
        info = await client.async_wait_for_reply(client.kc.kernel_info())
        content = info["content"] if info else {}
        report["kernel"]["implementation"] = content.get("implementation", "?")
        report["kernel"]["version"] = content.get("implementation_version", "?")
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                await client.async_execute_cell(cell, index)
            except Exception as e:  # the cell's error, a timeout, or a kernel that died
                report["error"] = failure(index, cell, e)
            report["cells"].append({"index": index, "stdout": stdout_of(cell)})
            if report["error"]:
                break
        if path and not report["error"]:
            await drain(client, timeout=120)
            add_late_output(report["cells"], client)
    return report


def add_late_output(cells, client):
    """Appends each late stdout text to the cell it belongs to (the last cell when unknown)."""
    by_index = {c["index"]: c for c in cells}
    for parent, name, text in client.late:
        if name != "stdout":
            continue
        index = client.cell_of_msg.get(parent)
        cell = by_index.get(index, cells[-1]) if cells else None
        if cell is not None:
            cell["stdout"] += text


def stdout_of(cell):
    return "".join(
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def failure(index, cell, exc):
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if error is None:  # a timeout, or a kernel that died
        ename, evalue, traceback = type(exc).__name__, str(exc).strip().splitlines()[-1], []
    else:
        ename, evalue = error.get("ename", "?"), error.get("evalue", "")
        traceback = [ANSI.sub("", line) for line in error.get("traceback", [])]
    return {
        "index": index,
        "source": cell.source,
        "ename": ename,
        "evalue": evalue,
        "traceback": traceback,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?")
    parser.add_argument("--kernel", default="deno")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--probe", action="store_true")
    args = parser.parse_args()
    missing = probe(args.kernel)
    if args.probe:
        kernel = None if missing else asyncio.run(execute(None, args.kernel, args.timeout))["kernel"]
        print(json.dumps({"missing": missing, "kernel": kernel}))
        return 0
    if missing:
        print(f"Cannot run notebooks: {missing}", file=sys.stderr)
        return 2
    if not args.notebook:
        parser.error("a notebook path is required")
    print(json.dumps(asyncio.run(execute(args.notebook, args.kernel, args.timeout))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
