/** The testkit's promise: a child and everything it started end by a deadline, whatever they do. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { liveChildren, spawnChild } from "../src/index.js";

const node = (code: string) => [process.execPath, ["-e", code]] as const;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe("spawnChild / stopChild", () => {
  it("SIGKILLs a child that ignores SIGTERM once the stop deadline passes", async () => {
    const [cmd, args] = node(
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);",
    );
    const child = spawnChild(cmd, [...args]);
    await child.waitForOutput(/ready/, 10_000);
    const t0 = Date.now();
    await child.stop(300);
    assert.ok(Date.now() - t0 < 5000, "stopped soon after the deadline");
    assert.deepEqual(await child.exited(1000), { code: null, signal: "SIGKILL" });
  });

  it("kills the whole process group: a grandchild does not outlive the stop", async () => {
    const [cmd, args] = node(
      "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });" +
        "console.log('grandchild ' + c.pid); setInterval(() => {}, 1000);",
    );
    const child = spawnChild(cmd, [...args]);
    const pid = Number((await child.waitForOutput(/grandchild (\d+)/, 10_000))[1]);
    assert.ok(alive(pid));
    await child.stop(2000);
    assert.ok(await gone(pid, 5000), "the grandchild was killed with its group");
  });

  it("kills a child at the end of its life deadline", async () => {
    const [cmd, args] = node("setInterval(() => {}, 1000);");
    const child = spawnChild(cmd, [...args], { deadlineMs: 200 });
    assert.deepEqual(await child.exited(5000), { code: null, signal: "SIGKILL" });
    await child.stop();
    assert.equal(liveChildren(), 0);
  });

  it("rejects a wait for output with what the child said, when it exits first", async () => {
    const [cmd, args] = node("console.error('cannot start'); process.exit(3);");
    const child = spawnChild(cmd, [...args]);
    await assert.rejects(child.waitForOutput(/ready/, 5000, "start"), /exited \(3\) first: cannot start/);
  });
});
