import assert from "node:assert/strict";
import { LinearSchedule } from "./schedule.ts";

Deno.test("LinearSchedule warms up linearly, then decays to zero", () => {
  const s = new LinearSchedule(1e-3, 100, 0.1);
  assert.equal(s.warmupSteps, 10);
  assert.equal(s.lr(0), 0);
  assert.ok(Math.abs(s.lr(5) - 5e-4) < 1e-15);
  assert.equal(s.lr(10), 1e-3);
  assert.ok(Math.abs(s.lr(55) - 5e-4) < 1e-15);
  assert.equal(s.lr(100), 0);
  assert.equal(s.lr(150), 0);
});

Deno.test("LinearSchedule with no warm-up starts at the peak", () => {
  const s = new LinearSchedule(2e-5, 10, 0);
  assert.equal(s.lr(0), 2e-5);
  assert.ok(Math.abs(s.lr(5) - 1e-5) < 1e-18);
});

Deno.test("LinearSchedule rejects bad settings", () => {
  assert.throws(() => new LinearSchedule(0, 10, 0.1), /peak 0/);
  assert.throws(() => new LinearSchedule(1e-3, 0, 0.1), /0 total steps/);
  assert.throws(() => new LinearSchedule(1e-3, 10, 1.5), /outside \[0, 1\]/);
});
