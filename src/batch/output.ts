/**
 * The batch output file: {@link scanOutput} reads what a previous run wrote (for resume), cutting
 * away a torn last line that a killed run may have left; {@link rewriteOutput} drops lines atomically
 * (temp file + fsync + rename); {@link LineWriter} appends whole lines in batches.
 *
 * Guarantees, whatever kills the process: every line in the file is whole JSON ending in `\n` once a
 * run has started on it (a torn tail is cut at start), and once a run has ended no `custom_id`
 * appears twice (a resumed run sends only ids absent from the file; `--retry-failed` first removes
 * the lines it will redo; an id whose input line changed (`input_hash`) is appended again and the run
 * ends by removing the older line, atomically). Readers take the last line of an id: that is the
 * current one while a run is going, and after a kill, until the next run's start removes the older.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** The output file holds a line that is not a batch output line (not JSON, or no `custom_id`). */
export class BatchOutputError extends Error {
  override name = 'BatchOutputError';
}

/** What a previous run left in the output file. */
export interface OutputScan {
  /**
   * Written ids → whether the line is a failure worth sending again (`error.retryable`), its line
   * number, its `input_hash` (absent in lines written before aiwire recorded it) and, for an
   * `invalid_input` line, the input line it is about.
   */
  ids: Map<
    string,
    { retryable: boolean; line: number; hash?: string | undefined; invalidLine?: number | undefined }
  >;
  /** Lines in the file (after cutting a torn tail). */
  lines: number;
  /** Lines superseded by a later line of the same id (removed by the next rewrite). */
  superseded: Set<number>;
  /** Bytes cut from the end: a line a killed run did not finish writing. */
  tornBytes: number;
}

/** Size of the file without its unterminated last line (the offset just after the last `\n`). */
async function wholeLinesEnd(fh: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Read the output of a previous run at `path` (none: an empty scan). A last line without its `\n`
 * (the process died inside a write) is truncated away first, so appending starts on a line boundary.
 *
 * @throws BatchOutputError when a whole line is not JSON with a string `custom_id` (the file is not a
 *   batch output, or was edited): the message names the line.
 */
export async function scanOutput(path: string): Promise<OutputScan> {
  const scan: OutputScan = { ids: new Map(), lines: 0, superseded: new Set(), tornBytes: 0 };
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    throw e;
  }
  if (size === 0) return scan;
  const fh = await open(path, 'r');
  let end: number;
  try {
    end = await wholeLinesEnd(fh, size);
  } finally {
    await fh.close();
  }
  if (end < size) {
    await truncate(path, end);
    scan.tornBytes = size - end;
  }
  if (end === 0) return scan;
  const rl = createInterface({
    input: createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const text of rl) {
    n += 1;
    if (text === '') continue;
    let parsed: {
      custom_id?: unknown;
      input_hash?: unknown;
      error?: { retryable?: unknown; code?: unknown; line?: unknown } | null;
    };
    try {
      parsed = JSON.parse(text);
    } catch {
      rl.close();
      throw new BatchOutputError(
        `${path} line ${n} is not JSON: this file is not an aiwire batch output (or was edited); choose another output file or fix the line`,
      );
    }
    if (typeof parsed?.custom_id !== 'string') {
      rl.close();
      throw new BatchOutputError(
        `${path} line ${n} has no "custom_id": this file is not a batch output; choose another output file`,
      );
    }
    const before = scan.ids.get(parsed.custom_id);
    if (before) scan.superseded.add(before.line);
    const invalid = parsed.error?.code === 'invalid_input' && typeof parsed.error.line === 'number';
    scan.ids.set(parsed.custom_id, {
      retryable: parsed.error?.retryable === true,
      line: n,
      hash: typeof parsed.input_hash === 'string' ? parsed.input_hash : undefined,
      invalidLine: invalid ? (parsed.error?.line as number) : undefined,
    });
  }
  scan.lines = n;
  return scan;
}

/**
 * Rewrite `path` without the lines numbered in `drop` (1-based): written to `<path>.<pid>.tmp`,
 * fsynced, renamed over `path` (atomic), and the directory fsynced. A crash midway leaves the old
 * file whole (and a stray temp file).
 */
export async function rewriteOutput(path: string, drop: ReadonlySet<number>): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const out = await open(tmp, 'w');
  try {
    const writer = new LineWriter(out);
    const rl = createInterface({
      input: createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const text of rl) {
      n += 1;
      if (text !== '' && !drop.has(n)) await writer.push(`${text}\n`);
    }
    await writer.close();
  } catch (e) {
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is still atomic
  }
}

/** Another live process holds the output's lock (`<output>.lock`). */
export class BatchLockedError extends Error {
  override name = 'BatchLockedError';
}

/** Whether process `pid` of this host is alive (signal 0; EPERM: alive, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take `<path>.lock` (holding this process's pid) so that two runs never append to one output. A lock
 * left by a process that is gone (killed) is taken over.
 *
 * @returns a function that removes the lock.
 * @throws BatchLockedError when a live process holds it.
 */
export async function lockOutput(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new BatchLockedError(
        `${path} is being written by another aiwire batch (pid ${pid}); wait for it to finish, or remove ${lock} if that process is not a batch run`,
      );
    }
    await rm(lock, { force: true });
  }
  throw new BatchLockedError(`could not take ${lock}; remove it and run again`);
}

/** Size of each write buffer: lines are encoded into it, and it is written when full (bytes). */
const BUFFER_BYTES = 256 * 1024;
/** ... or this long after the first buffered line (ms). */
const FLUSH_MS = 100;
/** `push` waits for the writes in progress when this much is queued (back-pressure, bytes). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/**
 * Appends whole lines to an open file: lines are encoded straight into a 256 KiB buffer (no string is
 * kept, so none lives long enough to burden the garbage collector) and each full buffer is written
 * with one `write()` holding only whole lines (a short write is continued before the next), at most
 * {@link FLUSH_MS} ms late; `close()` writes the rest and fsyncs. One write at a time, in push order.
 */
export class LineWriter {
  readonly #fh: FileHandle;
  #buffer: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  #used = 0;
  /** Written buffers, for reuse. */
  #spare: Buffer[] = [];
  /** Bytes handed to writes not finished yet. */
  #queuedBytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #error: unknown;

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  /** Open `path` for appending (created when absent). */
  static async append(path: string): Promise<LineWriter> {
    return new LineWriter(await open(path, 'a'));
  }

  /**
   * Buffer `text` (one or more whole lines, each ending in `\n`). Resolves at once unless 4 MiB are
   * queued for writing, then once the writes in progress are done.
   *
   * @throws the write error of an earlier flush (ENOSPC, EIO, …).
   */
  async push(text: string): Promise<void> {
    if (this.#error) throw this.#error;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.#used + text.length * 3 > this.#buffer.length) {
      if (this.#used > 0) this.#enqueue();
      if (text.length * 3 > this.#buffer.length) {
        this.#write(Buffer.from(text, 'utf8'), false);
        text = '';
      }
    }
    if (text !== '') this.#used += this.#buffer.write(text, this.#used, 'utf8');
    if (this.#queuedBytes >= HIGH_WATER_BYTES) {
      await this.#writing;
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(() => {});
    }, FLUSH_MS);
  }

  /** Hand the current buffer to the write queue and take a fresh one. */
  #enqueue(): void {
    const full = this.#buffer;
    const used = this.#used;
    this.#buffer = this.#spare.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES);
    this.#used = 0;
    this.#write(full.subarray(0, used), true);
  }

  /** Queue the write of `data` (whole lines); `reuse`: its memory goes back to the spares after. */
  #write(data: Buffer, reuse: boolean): void {
    this.#queuedBytes += data.length;
    this.#writing = this.#writing.then(async () => {
      if (this.#error) throw this.#error;
      try {
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await this.#fh.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      } catch (e) {
        this.#error = e;
        throw e;
      } finally {
        this.#queuedBytes -= data.length;
        if (reuse && this.#spare.length < 4) {
          this.#spare.push(Buffer.from(data.buffer, data.byteOffset, BUFFER_BYTES));
        }
      }
    });
    this.#writing.catch(() => {});
  }

  /** Write what is buffered (after the writes in progress). @throws the write error, if any. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#used > 0) this.#enqueue();
    return this.#writing;
  }

  /** Write the rest, fsync and close the file. @throws the first write error, if any. */
  async close(): Promise<void> {
    try {
      await this.flush();
      await this.#fh.sync();
    } finally {
      await this.#fh.close();
    }
  }
}
