import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { spawnChild } from "@parley/testkit";
import { LISTEN_BACKLOG } from "../src/start.js";
import { startTestRelay } from "./helpers.js";

/** `ss` (iproute2) shows a listening socket's backlog as its Send-Q; Linux only. */
const SS = ["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss"].find((p) => existsSync(p));

describe("listening socket", () => {
  it("queues up to LISTEN_BACKLOG connections while the relay is busy (not Node's 511)", {
    skip: process.platform !== "linux" || !SS ? "needs Linux and ss (iproute2) to read the backlog" : false,
  }, async (t) => {
    const relay = await startTestRelay(t);
    const ss = spawnChild(SS!, ["-Hltn", `sport = :${relay.port}`], { deadlineMs: 10_000 });
    try {
      const exit = await ss.closed(10_000);
      assert.equal(exit.code, 0, ss.stderr());
    } finally {
      await ss.stop(1000);
    }
    // "LISTEN 0 4096 127.0.0.1:PORT 0.0.0.0:*": state, Recv-Q (waiting now), Send-Q (the backlog).
    const line = ss.stdout().trim().split("\n")[0] ?? "";
    const [state, , backlog] = line.split(/\s+/);
    assert.equal(state, "LISTEN", `ss said: ${ss.stdout()}`);
    // The kernel keeps the smaller of the asked backlog and net.core.somaxconn.
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
    assert.equal(Number(backlog), Math.min(LISTEN_BACKLOG, somaxconn));
    if (somaxconn > 511) assert.ok(Number(backlog) > 511, "more than Node's default backlog");
  });
});
