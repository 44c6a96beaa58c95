/**
 * The GroupContext extension holding Parley's group metadata (name, roles…; opaque bytes to the MLS
 * engine): a private-use extension type (RFC 9420 §17.3 reserves 0xF000–0xFFFF). Every Parley
 * KeyPackage lists it in its capabilities and every Parley group requires it.
 */
export const PARLEY_METADATA_EXTENSION = 0xf0a1;
