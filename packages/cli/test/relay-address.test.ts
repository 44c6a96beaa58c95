/**
 * A wrong relay address (issue 14): `init` checks that a Parley relay answers before it creates
 * anything, and `config set server` fixes the address of an existing profile (checked the same way).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
let notARelay: Server;
let notARelayUrl = "";

before(async () => {
  relay = await startRelayProcess(tempDir("relay"));
  // Something else on a port: a web site answering 200 with HTML.
  notARelay = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<h1>hi</h1>"),
  );
  await new Promise<void>((resolve) => notARelay.listen(0, "127.0.0.1", resolve));
  const address = notARelay.address();
  notARelayUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
after(async () => {
  await relay?.stop();
  await new Promise<void>((resolve) => notARelay?.close(() => resolve()));
});

test("init refuses an address where no relay answers, and creates nothing", async () => {
  const home = tempDir("typo");
  const r = await parley(home, "init", "--name", "Ann", "--server", "http://127.0.0.1:1");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no relay answers at http:\/\/127\.0\.0\.1:1: check the address/);
  const after = await parley(home, "contacts");
  assert.equal(after.code, 1);
  assert.match(after.stderr, /no profile here yet/);
  // The same home works at once with the right address.
  await parleyJson(home, "init", "--name", "Ann", "--server", relay.url);
});

test("init refuses something that answers but is not a Parley relay", async () => {
  const r = await parley(tempDir("web-site"), "--json", "init", "--name", "Ann", "--server", notARelayUrl);
  assert.equal(r.code, 1);
  const body = JSON.parse(r.stdout) as { code: string; error: string };
  assert.equal(body.code, "relay_unreachable");
  assert.match(body.error, /is not a Parley relay/);
});

test("config set server moves a profile to a relay that answers; a wrong one changes nothing", async () => {
  const home = tempDir("move");
  await parleyJson(home, "init", "--name", "Ben", "--server", relay.url);
  const bad = await parley(home, "config", "set", "server", "http://127.0.0.1:1");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /nothing was changed/);
  assert.deepEqual(await parleyJson(home, "config", "get"), {
    name: "Ben",
    server: relay.url,
    language: "auto",
  });

  const other = await startRelayProcess(tempDir("relay-2"));
  try {
    assert.deepEqual(await parleyJson(home, "config", "set", "server", other.url), { server: other.url });
    assert.deepEqual(await parleyJson(home, "config", "get"), {
      name: "Ben",
      server: other.url,
      language: "auto",
    });
    // New invites are made on the new relay.
    const { link } = await parleyJson<{ link: string }>(home, "invite");
    assert.ok(link.startsWith(`${other.url}/`), link);
  } finally {
    await other.stop();
  }
  const unknown = await parley(home, "config", "set", "colour", "blue");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /colour/);
});
