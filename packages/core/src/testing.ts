/**
 * `@parley/core/testing`: contract suites that every implementation of a core seam must pass, for
 * the packages that bring an implementation (@parley/node's SQLite store, the web app's IndexedDB
 * store) to run in their own tests; and data made up for the benchmarks. Test and bench code only;
 * nothing in the engine imports it.
 */
export { type ContractCase, keyValueStoreContract, searchContract } from "./storage/contract.js";
export { fillFeed } from "./testing/feed-fill.js";
