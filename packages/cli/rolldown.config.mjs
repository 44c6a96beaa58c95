// The CLI as one file for Node (see bin/entry.js for why). better-sqlite3 stays outside: it loads
// a native addon from its own folder.
export default {
  input: "dist/src/main.js",
  platform: "node",
  external: ["better-sqlite3"],
  output: { dir: "dist/bundle", format: "esm" },
};
