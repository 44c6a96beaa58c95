/**
 * Where the relay's log lines go: a stream (stderr) written without ever blocking the relay or
 * holding it at exit. pino's default destination (sonic-boom on fd 2) buffers without bound when
 * nobody reads the pipe and retries EAGAIN/EPIPE for ever, also at exit. This one keeps at most
 * `maxBufferedBytes` waiting and drops further lines (counting them, and saying so once the stream
 * drains); a stream that fails (EPIPE: the reader is gone) is given up, and every line after it is
 * dropped. `flush` waits for the stream only up to a deadline.
 */
import type { Writable } from "node:stream";

export const DEFAULT_LOG_BUFFER_BYTES = 1024 * 1024;

export class LogSink {
  /** Lines dropped so far (buffer full or stream broken). */
  dropped = 0;
  private unreported = 0;
  private broken = false;

  constructor(
    private readonly stream: Writable,
    private readonly maxBufferedBytes = DEFAULT_LOG_BUFFER_BYTES,
  ) {
    // Without a listener, EPIPE on stderr would be an uncaught exception.
    stream.on("error", () => {
      this.broken = true;
    });
    stream.on("drain", () => this.reportDrops());
  }

  /** pino calls this with one serialized line at a time. */
  write(line: string): void {
    if (
      this.broken ||
      this.stream.destroyed ||
      !this.stream.writable ||
      this.stream.writableLength + line.length > this.maxBufferedBytes
    ) {
      this.drop();
      return;
    }
    try {
      this.stream.write(line);
    } catch {
      this.broken = true;
      this.drop();
    }
  }

  /** Resolves once what is buffered has been written, or the stream failed, or after `ms`. */
  flush(ms: number): Promise<void> {
    if (this.broken || this.stream.destroyed || this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stream.off("drain", done);
        this.stream.off("error", done);
        this.stream.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stream.once("drain", done);
      this.stream.once("error", done);
      this.stream.once("close", done);
    });
  }

  private drop(): void {
    this.dropped++;
    this.unreported++;
  }

  private reportDrops(): void {
    if (this.unreported === 0 || this.broken) return;
    const dropped = this.unreported;
    this.unreported = 0;
    this.write(
      `${JSON.stringify({ level: 40, time: Date.now(), dropped, msg: "log lines dropped: the log reader was not keeping up" })}\n`,
    );
  }
}
