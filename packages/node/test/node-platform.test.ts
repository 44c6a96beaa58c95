/** The Node platform pieces on their own: the SQLite key-value store, the cross-process file lock, AES-GCM. */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, globalAgent, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { FILE_CHUNK_BYTES, FileCipher, FileCryptoError, RelayHttpClient, toBase64Url } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { FileDownloadTarget, FileLock, nodeAesGcm, nodeFetch, SqliteKeyValueStore } from "../src/index.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-node-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe("SqliteKeyValueStore", () => {
  it("gets, lists by prefix in both orders with a limit, writes atomically, and survives reopening", async (t) => {
    const path = join(tempDir(t), "kv.sqlite");
    const store = new SqliteKeyValueStore(path);
    await store.write([
      { key: "a/1", value: bytes(1) },
      { key: "a/2", value: bytes(2) },
      { key: "a/3", value: bytes(3) },
      { key: "b/1", value: bytes(9) },
    ]);
    assert.deepEqual(await store.get("a/2"), bytes(2));
    assert.equal(await store.get("a/9"), undefined);
    assert.deepEqual(
      (await store.list("a/")).map(([k]) => k),
      ["a/1", "a/2", "a/3"],
    );
    assert.deepEqual(
      (await store.list("a/", { reverse: true, limit: 2 })).map(([k]) => k),
      ["a/3", "a/2"],
    );
    await store.write([
      { key: "a/1", value: null },
      { key: "a/2", value: bytes(22) },
    ]);
    await store.close();
    const again = new SqliteKeyValueStore(path);
    t.after(() => again.close());
    assert.deepEqual(await again.list("a/"), [
      ["a/2", bytes(22)],
      ["a/3", bytes(3)],
    ]);
  });

  it("refuses a file that is not a database", (t) => {
    const path = join(tempDir(t), "not.sqlite");
    writeFileSync(path, "this is not a database, just text long enough to have a header".repeat(20));
    assert.throws(() => new SqliteKeyValueStore(path));
  });
});

describe("FileLock", () => {
  it("runs one task at a time and takes over a lock left by a process that is gone", async (t) => {
    const dir = tempDir(t);
    const path = join(dir, "parley.lock");
    const lock = new FileLock(path, 2000);
    const order: string[] = [];
    await Promise.all([
      lock.run(async () => {
        order.push("a start");
        await new Promise((r) => setTimeout(r, 30));
        order.push("a end");
      }),
      lock.run(async () => {
        order.push("b");
      }),
    ]);
    assert.deepEqual(order, ["a start", "a end", "b"]);
    writeFileSync(path, "2147483646"); // no such pid
    assert.equal(await lock.run(async () => "taken over"), "taken over");
  });

  it("keeps the lock for back-to-back tasks until the loop's next turn, then gives it up", async (t) => {
    const path = join(tempDir(t), "parley.lock");
    const lock = new FileLock(path, 2000);
    await lock.run(async () => {});
    assert.equal(existsSync(path), true, "still held: a task that follows at once takes it as it is");
    assert.equal(await lock.run(async () => readFileSync(path, "utf8")), String(process.pid));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(existsSync(path), false, "given up once nothing followed");
  });

  it("gives up after its timeout while a live process holds the lock", async (t) => {
    const path = join(tempDir(t), "parley.lock");
    writeFileSync(path, String(process.ppid)); // alive, and not us
    await assert.rejects(
      new FileLock(path, 200).run(async () => "never"),
      /profile is busy/,
    );
  });
});

describe("relays.json: a relay's other nodes", () => {
  it("is read from the profile folder, keys without a trailing slash; absent is none; malformed is refused", async (t) => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { readRelayAlternates } = await import("../src/profile.js");
    const home = mkdtempSync(join(tmpdir(), "parley-relays-"));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    assert.deepEqual(readRelayAlternates(home), {});
    writeFileSync(
      join(home, "relays.json"),
      JSON.stringify({ "https://r1.example/": ["https://r2.example"] }),
    );
    assert.deepEqual(readRelayAlternates(home), { "https://r1.example": ["https://r2.example"] });
    writeFileSync(join(home, "relays.json"), JSON.stringify({ "https://r1.example": "https://r2.example" }));
    assert.throws(() => readRelayAlternates(home), /bad_profile|relays/);
  });
});

describe("nodeAesGcm: the files' AES-256-GCM from node:crypto", () => {
  it("opens what WebCrypto sealed and seals what WebCrypto opens, chunk for chunk; refuses a changed byte", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const prefix = crypto.getRandomValues(new Uint8Array(7));
    const web = await FileCipher.open(key, prefix);
    const native = await FileCipher.open(key, prefix, nodeAesGcm);
    for (const [index, last, size] of [
      [0, false, FILE_CHUNK_BYTES],
      [7, true, 1000],
      [3, true, 0],
    ] as const) {
      const plain = new Uint8Array(randomBytes(size)); // getRandomValues takes at most 64 KiB
      const sealed = await web.encrypt(index, last, plain);
      assert.deepEqual(new Uint8Array(await native.encrypt(index, last, plain)), new Uint8Array(sealed));
      assert.deepEqual(new Uint8Array(await native.decrypt(index, last, sealed)), plain);
      assert.deepEqual(new Uint8Array(await web.decrypt(index, last, sealed)), plain);
      const changed = sealed.slice();
      changed[changed.length - 1]! ^= 1;
      await assert.rejects(native.decrypt(index, last, changed), FileCryptoError);
      await assert.rejects(native.decrypt(index + 1, last, sealed), FileCryptoError, "another index");
      await assert.rejects(native.decrypt(index, !last, sealed), FileCryptoError, "another last flag");
    }
  });
});

/** `server` listening on loopback until the test ends; its URL. */
async function listening(t: TestContext, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe("nodeFetch", () => {
  it("reads a response body no further ahead of a slow reader than the socket's buffers", async (t) => {
    // 64 MiB offered; the reader takes one piece and waits: the server can write only what the
    // kernel's buffers hold (a few MiB on loopback) and the 64 KiB the body reads ahead.
    const piece = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    const server = createServer((_req, res) => {
      const more = () => {
        while (sent < 64) {
          sent++;
          if (!res.write(piece)) return void res.once("drain", more);
        }
        res.end();
      };
      more();
    });
    const res = await nodeFetch(await listening(t, server));
    const reader = res.body!.getReader();
    assert.equal((await reader.read()).done, false);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(sent < 40, `${sent} MiB written while the reader held one piece`);
    await reader.cancel();
  });

  it("fails a response body whose connection is cut before its end, never ends it as if whole", async (t) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-length": String(8 * 1024 * 1024) });
      res.write(Buffer.alloc(1024 * 1024, 1), () => setTimeout(() => res.socket?.destroy(), 50));
    });
    const res = await nodeFetch(await listening(t, server));
    const reader = res.body!.getReader();
    let got = 0;
    await assert.rejects(async () => {
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        got += next.value.length;
      }
    });
    assert.ok(got <= 1024 * 1024);
  });

  it("hands the connection back once an ack or a delete is answered (no busy socket keeps a finished command alive)", async (t) => {
    // A relay stand-in that answers every command {ok: true}, keeping connections alive.
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    const relay = `http://127.0.0.1:${port}`;
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const queue = {
      relay,
      queueId: "AAAAAAAAAAAAAAAAAAAAAA",
      sendId: "BBBBBBBBBBBBBBBBBBBBBB",
      recipientKey: toBase64Url(publicKey.export({ format: "der", type: "spki" }).subarray(12)),
      recipientSecretKey: toBase64Url(privateKey.export({ format: "der", type: "pkcs8" }).subarray(16)),
    };
    const client = new RelayHttpClient(relay, nodeCryptoProvider, nodeFetch);
    await client.ack(queue, "CCCCCCCCCCCCCCCCCCCCCC");
    await client.deleteQueue(queue);
    const busy = Object.entries(globalAgent.sockets).filter(([name]) => name.includes(`:${port}:`));
    assert.deepEqual(
      busy.map(([name, sockets]) => [name, sockets?.length]),
      [],
      "every socket back in the pool (unreferenced, idle), none waiting for its reply to be read",
    );
  });

  it("sends a GET again when the relay closed its kept-alive connection under it, never a POST", async (t) => {
    // A relay stand-in on raw TCP: on each connection it answers the first request (keep-alive) and
    // closes the connection without a word when a second request arrives on it, as a relay whose
    // keep-alive time ran out just as the client reused the connection.
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      let requests = 0;
      socket.on("data", (data) => {
        requests += data.toString("latin1").split("\r\n\r\n").length - 1;
        if (requests === 1) {
          socket.write(
            'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{"ok":true}',
          );
        } else socket.destroy();
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/blobs/limits`;
    assert.equal(((await (await nodeFetch(url)).json()) as { ok: boolean }).ok, true);
    // The same kept-alive connection again: closed under it, sent again on a new one.
    assert.equal(((await (await nodeFetch(url)).json()) as { ok: boolean }).ok, true);
    assert.equal(connections, 2);
    // A POST on the kept-alive connection of the second: the error reaches the caller.
    await assert.rejects(nodeFetch(url, { method: "POST", body: "{}" }));
    for (const sockets of Object.values(globalAgent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  });
});

describe("FileDownloadTarget: a download's files", () => {
  const assessment = { detected: null, warnings: [] } as unknown as Parameters<
    FileDownloadTarget["finish"]
  >[0];
  const pieces = (seed: number, sizes: number[]) =>
    sizes.map((n, i) => new Uint8Array(n).map((_, j) => (seed + i * 31 + j) % 251));
  const joined = (parts: Uint8Array[]) => Buffer.concat(parts);

  it("writes the plaintext in order behind the download, whatever the pieces' sizes, and saves the whole", async (t) => {
    const dir = tempDir(t);
    const target = new FileDownloadTarget(join(dir, "out.bin"));
    // Pieces around and beyond the writes allowed in flight.
    const plain = pieces(2, [65_536, 1, 4 * 1024 * 1024, 300_000, 65_536, 2_000_000, 17]);
    for (const p of plain) await target.writePlain(p);
    assert.equal(await target.heldPlain(), joined(plain).length);
    assert.deepEqual(Buffer.from(await target.readPlain(65_530, 10)), joined(plain).subarray(65_530, 65_540));
    await target.finish(assessment);
    assert.deepEqual(readFileSync(join(dir, "out.bin")), joined(plain));
    assert.equal(existsSync(target.partPath), false, "the part became the file");
  });

  it("keeps what a cut attempt wrote for the next, which goes on after what it keeps", async (t) => {
    const dir = tempDir(t);
    const out = join(dir, "out.bin");
    const first = new FileDownloadTarget(out);
    const [a, b, c] = pieces(4, [300_000, 300_000, 300_000]);
    await first.writePlain(a!);
    await first.writePlain(b!);
    await first.pause();
    assert.equal(existsSync(out), false, "nothing under the real name");
    const second = new FileDownloadTarget(out);
    assert.equal(await second.heldPlain(), 600_000);
    await second.keepPlain(262_144); // a resume starts at a chunk's boundary
    await second.writePlain(c!);
    await second.finish(assessment);
    assert.deepEqual(readFileSync(out), Buffer.concat([a!.subarray(0, 262_144), c!]));
  });

  it("throws a write that failed, and saves nothing", async (t) => {
    const dir = tempDir(t);
    // Its folder does not exist: the plaintext's first write fails behind the download.
    const out = join(dir, "missing", "out.bin");
    const target = new FileDownloadTarget(out);
    const failed = async () => {
      for (const p of pieces(3, [1024, 1024, 1024])) await target.writePlain(p);
      await target.finish(assessment);
    };
    await assert.rejects(failed, /ENOENT/);
    await target.discardPlain();
    assert.equal(existsSync(out), false);
  });
});
