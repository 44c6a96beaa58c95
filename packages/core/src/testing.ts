/**
 * `@parley/core/testing`: contract suites that every implementation of a core seam must pass, for
 * the packages that bring an implementation (@parley/node's SQLite store, the web app's IndexedDB
 * store) to run in their own tests. Test code only; nothing in the engine imports it.
 */
export { type ContractCase, keyValueStoreContract, searchContract } from "./storage/contract.js";
