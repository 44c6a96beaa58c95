/**
 * Files on Node for the engine's file operations: a file on disk as a FileSource (read in pieces,
 * never whole), a download target that keeps the ciphertext beside the profile as it arrives (so a
 * killed download resumes with a range) and writes the plaintext to a temporary file moved into
 * place only once complete and verified, and node:crypto's SHA-256.
 */
import { createHash, type Hash } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { DownloadTarget, FileAssessment, FileSource, Hasher } from "@parley/core";

/** A file on disk, and what identifies it for resuming (path, size, modification time). */
export async function fileSource(
  path: string,
): Promise<{ source: FileSource; sourceId: string; close(): Promise<void> }> {
  const absolute = resolve(path);
  const handle = await open(absolute, constants.O_RDONLY);
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new Error(`${path} is not a file`);
  }
  const source: FileSource = {
    size: info.size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      let at = 0;
      while (at < length) {
        const { bytesRead } = await handle.read(out, at, length - at, offset + at);
        if (bytesRead === 0) throw new Error(`${path} got shorter while it was being sent`);
        at += bytesRead;
      }
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    },
  };
  return {
    source,
    sourceId: `${absolute}|${info.size}|${Math.floor(info.mtimeMs)}|${info.ino}`,
    close: () => handle.close(),
  };
}

function nodeHasher(hash: Hash = createHash("sha256")): Hasher {
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
    copy: () => nodeHasher(hash.copy()),
  };
}

/** SHA-256 from node:crypto (several times faster than JavaScript's for large files). */
export const nodeSha256 = (): Hasher => nodeHasher();

/**
 * A download into `outPath`: ciphertext kept in `cipherPath` (under the profile; resumed from its
 * size), plaintext written to `<outPath>.parley-part` and renamed to `outPath` by `finish`. The
 * ciphertext is removed once the file is saved. `beforeSave` sees what the device found (warnings
 * are shown before the file lands).
 */
export class FileDownloadTarget implements DownloadTarget {
  private plain: Awaited<ReturnType<typeof open>> | undefined;
  private cipher: Awaited<ReturnType<typeof open>> | undefined;
  readonly partPath: string;

  constructor(
    readonly outPath: string,
    readonly cipherPath: string,
    private readonly beforeSave: (assessment: FileAssessment) => void | Promise<void> = () => {},
  ) {
    this.partPath = join(dirname(outPath), `.${basename(outPath)}.parley-part`);
  }

  async heldCipher(): Promise<number> {
    try {
      return (await stat(this.cipherPath)).size;
    } catch {
      return 0;
    }
  }

  async appendCipher(bytes: Uint8Array): Promise<void> {
    if (!this.cipher) {
      await mkdir(dirname(this.cipherPath), { recursive: true, mode: 0o700 });
      this.cipher = await open(
        this.cipherPath,
        constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
        0o600,
      );
    }
    let at = 0;
    while (at < bytes.length) at += (await this.cipher.write(bytes, at, bytes.length - at)).bytesWritten;
  }

  private async closeCipher(): Promise<void> {
    const file = this.cipher;
    this.cipher = undefined;
    await file?.close();
  }

  async *readCipher(): AsyncIterable<Uint8Array> {
    await this.closeCipher();
    for await (const chunk of createReadStream(this.cipherPath, { highWaterMark: 1024 * 1024 })) {
      yield chunk as Buffer;
    }
  }

  async discardCipher(): Promise<void> {
    await this.closeCipher();
    await rm(this.cipherPath, { force: true });
  }

  async writePlain(bytes: Uint8Array): Promise<void> {
    this.plain ??= await open(
      this.partPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
      0o600,
    );
    let at = 0;
    while (at < bytes.length) at += (await this.plain.write(bytes, at, bytes.length - at)).bytesWritten;
  }

  async finish(assessment: FileAssessment): Promise<void> {
    this.plain ??= await open(
      this.partPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
      0o600,
    );
    await this.plain.sync();
    await this.plain.close();
    this.plain = undefined;
    await this.beforeSave(assessment);
    await rename(this.partPath, this.outPath);
    await this.discardCipher();
  }

  async abortPlain(): Promise<void> {
    await this.plain?.close().catch(() => {});
    this.plain = undefined;
    await rm(this.partPath, { force: true });
  }
}
