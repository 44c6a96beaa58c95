export { Rfc9420Engine } from "./engine.js";
