import assert from "node:assert/strict";
import { readEventsIndependently } from "../../tests/_util/tensorboard_reader.ts";
import { crc32c, maskedCrc32c, SummaryWriter, tfRecord } from "./tensorboard.ts";
import { recordScalars, RunBoard } from "./tensorboard_log.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("crc32c matches the published CRC-32C check values", () => {
  // RFC 3720 (iSCSI) appendix B.4 vectors and the "123456789" check value.
  assert.equal(crc32c(bytes("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("a TFRecord frames its data with the length and two masked CRC-32Cs", () => {
  const data = bytes("hello");
  const rec = tfRecord(data);
  const view = new DataView(rec.buffer);
  assert.equal(rec.length, 8 + 4 + 5 + 4);
  assert.equal(view.getBigUint64(0, true), 5n);
  assert.equal(view.getUint32(8, true), maskedCrc32c(rec.subarray(0, 8)));
  assert.deepEqual(rec.subarray(12, 17), data);
  assert.equal(view.getUint32(17, true), maskedCrc32c(data));
  const c = crc32c(data);
  assert.equal(maskedCrc32c(data), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

Deno.test({
  name: "SummaryWriter events decode with the independent protobuf reader, live and torn",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const writer = new SummaryWriter(`${dir}/run`, { filenameSuffix: ".camtl" });
    assert.match(writer.path, /\/events\.out\.tfevents\.\d{10}\.[^/]+\.\d+\.\d+\.camtl$/);
    writer.addText("args", '{"seed": 42, "tasks": ["rte"]}', 0);
    writer.addScalar("loss", 0.6931, 1, 1_600_000_000.25);
    writer.addScalarGroup({ learning_rate: 2e-5, "eval/rte/acc": 0.5, odd: Infinity }, 9e9 + 1);
    // Read while the writer is still open: each event left the process when it was added.
    const live = await readEventsIndependently(writer.path);
    if (live === null) return;
    assert.equal(live.length, 4);
    assert.equal(live[0].file_version, "brain.Event:2");
    assert.deepEqual(live[1].values, [{
      tag: "args/text_summary",
      plugin: "text",
      dtype: 7,
      shape: [1],
      text: ['{"seed": 42, "tasks": ["rte"]}'],
    }]);
    assert.equal(live[2].wall_time, 1_600_000_000.25);
    assert.equal(live[2].step, 1);
    assert.deepEqual(live[2].values, [{ tag: "loss", simple_value: Math.fround(0.6931) }]);
    assert.equal(live[3].step, 9e9 + 1);
    assert.deepEqual(live[3].values, [
      { tag: "learning_rate", simple_value: Math.fround(2e-5) },
      { tag: "eval/rte/acc", simple_value: 0.5 },
      { tag: "odd", simple_value: "inf" },
    ]);
    writer.close();
    assert.throws(() => writer.addScalar("loss", 1, 2), /writer is closed/);

    // A process killed mid-write leaves a torn last record: the events before it still read.
    const whole = await Deno.readFile(writer.path);
    await Deno.writeFile(writer.path, whole.subarray(0, whole.length - 7));
    const torn = await readEventsIndependently(writer.path);
    assert.equal(torn?.length, 4);
    assert.ok((torn?.at(-1)?.torn ?? 0) > 0);
    // A flipped byte inside a record is caught by the data CRC.
    whole[whole.length - 10] ^= 0x40;
    await Deno.writeFile(writer.path, whole);
    await assert.rejects(readEventsIndependently(writer.path), /data CRC-32C mismatch/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("a resumed run's board purges later steps and does not repeat the arguments", async () => {
  const dir = await Deno.makeTempDir();
  RunBoard.open(dir, { seed: 1 }).close();
  const resumed = RunBoard.open(dir, { seed: 1 }, 40);
  resumed.append({ step: 41, epoch: 1, loss: 0.25 });
  resumed.close();
  assert.equal([...Deno.readDirSync(dir)].length, 2);
  const events = await readEventsIndependently(resumed.writer.path);
  if (events !== null) {
    const [version, start, record] = events.length === 3 ? events : [];
    assert.equal(events.length, 3, JSON.stringify(events));
    assert.equal(version.step, 41);
    assert.deepEqual([start.step, start.session_status], [41, 1]);
    assert.deepEqual(record.values?.map((v) => v.tag), ["epoch", "loss"]);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("recordScalars names every logged value and the task mix", () => {
  assert.deepEqual(
    recordScalars({
      step: 10,
      epoch: 0.25,
      loss: 0.5,
      learning_rate: 1e-4,
      examples_per_second: 80,
      sampler: { cola: 30, rte: 10 },
      candidate_fraction: 0.5,
      loss_scale: 65536,
      eval: { rte: { eval_loss: 0.7, acc: 0.6 } },
      best: { rte: { acc: 0.6 } },
    }),
    {
      epoch: 0.25,
      loss: 0.5,
      learning_rate: 1e-4,
      examples_per_second: 80,
      loss_scale: 65536,
      candidate_fraction: 0.5,
      "task_mix/cola": 0.75,
      "task_mix/rte": 0.25,
      "eval/rte/eval_loss": 0.7,
      "eval/rte/acc": 0.6,
      "best/rte/acc": 0.6,
    },
  );
});
