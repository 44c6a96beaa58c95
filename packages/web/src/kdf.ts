/** Argon2id for core's EncryptedKeyValueStore, computed in WebAssembly by hash-wasm. */
import type { KdfParams, PassphraseKdf } from "@parley/core";
import { argon2id } from "hash-wasm";

export const argon2idKdf: PassphraseKdf = {
  algorithm: "argon2id",
  async derive(passphrase: string, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
    return argon2id({
      // The same passphrase typed on another keyboard or OS may arrive in another Unicode form.
      password: passphrase.normalize("NFC"),
      salt,
      parallelism: params.parallelism,
      iterations: params.iterations,
      memorySize: params.memoryKiB,
      hashLength: 32,
      outputType: "binary",
    });
  },
};
