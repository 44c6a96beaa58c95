import { fromUtf8, utf8 } from "../encoding/bytes.js";
import type { KvWrite } from "../storage/key-value-store.js";

export const json = (value: unknown): Uint8Array => utf8(JSON.stringify(value));
export const unjson = <T>(bytes: Uint8Array): T => JSON.parse(fromUtf8(bytes)) as T;

/** A batch of writes that lands atomically; build it up, then commit it. */
export class Batch {
  readonly writes: KvWrite[] = [];
  /** Run in order once the writes have landed (ProfileRepository.commit), never if they failed. */
  readonly committed: (() => void)[] = [];
  /** `fn` runs after this batch has been written (e.g. keeping in memory what it stored). */
  afterCommit(fn: () => void): this {
    this.committed.push(fn);
    return this;
  }
  put(key: string, value: unknown): this {
    this.writes.push({ key, value: json(value) });
    return this;
  }
  /** A value with its searchable text (`null`: none), for KeyValueStore.search. */
  putSearchable(key: string, value: unknown, text: string | null): this {
    this.writes.push({ key, value: json(value), text });
    return this;
  }
  putBytes(key: string, value: Uint8Array): this {
    this.writes.push({ key, value });
    return this;
  }
  delete(key: string): this {
    this.writes.push({ key, value: null });
    return this;
  }
  /** Drops every write gathered so far (a message that turned out to be rejected changes nothing). */
  clear(): this {
    this.writes.length = 0;
    this.committed.length = 0;
    return this;
  }
}
