/**
 * A JSONL file written whole by one command (detections, audit decisions): rows are buffered, land in
 * `PATH.partial`, and the file is fsynced and renamed into place on close, so a reader never sees half a file.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';

export class JsonlWriter {
  private buf = '';
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<JsonlWriter> {
    return new JsonlWriter(await open(`${path}.partial`, 'w'), path);
  }

  async write(row: unknown): Promise<void> {
    this.buf += `${JSON.stringify(row)}\n`;
    if (this.buf.length > 1 << 16) await this.flush();
  }

  private async flush(): Promise<void> {
    await this.fh.write(this.buf);
    this.buf = '';
  }

  /** Flushes, fsyncs and renames the file into place. */
  async close(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    await rename(`${this.path}.partial`, this.path);
  }

  /** Closes without renaming (the partial file stays, for a failed run to be inspected). */
  async abandon(): Promise<void> {
    await this.fh.close();
  }
}
