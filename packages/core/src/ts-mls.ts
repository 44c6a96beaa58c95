/**
 * `@parley/core/ts-mls`: what of Parley runs on ts-mls, apart from the product. ts-mls is a development
 * dependency (issue 10): the reference the differential tests and the groups bench compare Parley's
 * own engine (Rfc9420Engine, in "@parley/core") with. Nothing reachable from "@parley/core" or
 * "@parley/core/node" imports this module statically (test/no-ts-mls-at-runtime.test.ts checks it).
 *
 *  - TsMlsEngine: the MlsEngine on ts-mls that Parley 0.1 shipped, for differential tests and benches.
 *  - The converter of group states TsMlsEngine saved into Rfc9420Engine's format, which store
 *    migration 4 (store/migrations.ts) loads by this entry's name when a 0.1 profile has group
 *    states; where ts-mls is not installed the load fails and such groups become "needs-readd".
 */
export * from "./mls/rfc9420-engine/from-ts-mls.js";
export * from "./mls/ts-mls-engine.js";
