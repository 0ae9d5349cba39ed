/**
 * Splitting the input into provider batches under their limits: {@link ChunkBuilder} groups items by
 * the batch they can share (OpenAI: one endpoint per batch) and hands back a full chunk as soon as
 * the next request would pass the request or byte limit. Only the open chunk of each group is held,
 * and with `spoolDir` (OpenAI's JSONL input file; Anthropic's create body, written from it) only its last `spoolAfterBytes`
 * stay in memory: the rest is appended to a temporary file (`chunk.spool`), so a 200 MB batch does
 * not sit in memory.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { inputHashOf } from '../input.js';
import type { BatchItem } from '../types.js';

/** Requests ready to become one provider batch. */
export interface Chunk {
  /** The group (OpenAI: the endpoint, e.g. `/v1/chat/completions`; Anthropic: `/v1/messages`). */
  group: string;
  /**
   * The encoded requests (input file lines / `requests[]` entries) held in memory, in input order:
   * all of them, or those after the ones already in `spool`.
   */
  encoded: string[];
  /** The temporary file holding the first requests (each followed by a newline), when spooled. */
  spool?: { path: string; handle: FileHandle } | undefined;
  /** The input's `custom_id` of each request, in input order. */
  customIds: string[];
  /** The input line hash of each request (`''` when unknown), in the order of `customIds`. */
  hashes: string[];
  /** Bytes of `encoded`. */
  memoryBytes: number;
  /** The id each request has in the batch when it differs from its `custom_id` (remote → custom). */
  renamed: Record<string, string>;
  /** Bytes of the batch (the encoded requests, separators and overhead). */
  bytes: number;
}

/** The limits and encoding a {@link ChunkBuilder} works with. */
export interface ChunkLimits {
  /** Most requests in one batch (a positive integer). */
  maxRequests: number;
  /** Most bytes in one batch (a positive integer). */
  maxBytes: number;
  /** Bytes of a batch besides its requests. */
  overheadBytes: number;
  /** Bytes between two requests (a newline, a comma). */
  separatorBytes: number;
  /** Whether an id can be used as is in the batch. */
  acceptsId(id: string): boolean;
  /** The encoded request of `item` under `remoteId`. */
  encode(item: BatchItem, remoteId: string): string;
  /**
   * A directory for temporary files: requests past `spoolAfterBytes` go to a file there (each followed
   * by a newline). Absent: everything stays in memory.
   */
  spoolDir?: string | undefined;
  /** Bytes of a chunk kept in memory before they are written to its temporary file. */
  spoolAfterBytes?: number | undefined;
}

/** The outcome of {@link ChunkBuilder.add}. */
export type AddResult =
  /** Added; `full` is a chunk the item did not fit in, to submit now. */
  | { ok: true; full?: Chunk | undefined }
  /** The item alone is over the byte limit: it cannot go in any batch. */
  | { ok: false; bytes: number };

function emptyChunk(group: string, overhead: number): Chunk {
  return { group, encoded: [], customIds: [], hashes: [], memoryBytes: 0, renamed: {}, bytes: overhead };
}

/** Write the chunk's requests still in memory to its temporary file (each followed by a newline). */
export async function writeSpool(chunk: Chunk): Promise<void> {
  if (!chunk.spool || chunk.encoded.length === 0) return;
  await chunk.spool.handle.write(`${chunk.encoded.join('\n')}\n`);
  chunk.encoded = [];
  chunk.memoryBytes = 0;
}

/** Close and delete the chunk's temporary file, if any (errors ignored). */
export async function dropSpool(chunk: Chunk): Promise<void> {
  const spool = chunk.spool;
  if (!spool) return;
  chunk.spool = undefined;
  await spool.handle.close().catch(() => {});
  await fsp.rm(spool.path, { force: true }).catch(() => {});
}

interface OpenChunk {
  chunk: Chunk;
  remoteIds: Set<string>;
  renames: number;
}

/** Builds chunks per group; see the file comment. */
export class ChunkBuilder {
  readonly #limits: ChunkLimits;
  readonly #open = new Map<string, OpenChunk>();
  #spools = 0;

  /** @throws RangeError when a limit is not a positive integer. */
  constructor(limits: ChunkLimits) {
    for (const key of ['maxRequests', 'maxBytes'] as const) {
      const v = limits[key];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
    }
    this.#limits = limits;
  }

  /**
   * Add `item` to its group's open chunk; see {@link AddResult}.
   * @throws the file system's error when the temporary file cannot be written (ENOSPC).
   */
  async add(group: string, item: BatchItem): Promise<AddResult> {
    const l = this.#limits;
    let open = this.#open.get(group) ?? this.#fresh(group);
    let encoded = this.#encode(open, item);
    if (l.overheadBytes + encoded.bytes > l.maxBytes)
      return { ok: false, bytes: l.overheadBytes + encoded.bytes };
    let full: Chunk | undefined;
    const c0 = open.chunk;
    if (
      c0.customIds.length >= l.maxRequests ||
      c0.bytes + encoded.bytes + (c0.customIds.length > 0 ? l.separatorBytes : 0) > l.maxBytes
    ) {
      full = c0;
      open = this.#fresh(group);
      encoded = this.#encode(open, item);
    }
    const c = open.chunk;
    c.bytes += encoded.bytes + (c.customIds.length > 0 ? l.separatorBytes : 0);
    c.encoded.push(encoded.text);
    c.memoryBytes += encoded.bytes + l.separatorBytes;
    c.customIds.push(item.custom_id);
    c.hashes.push(inputHashOf(item) ?? '');
    if (encoded.remoteId !== item.custom_id) c.renamed[encoded.remoteId] = item.custom_id;
    open.remoteIds.add(encoded.remoteId);
    if (l.spoolDir !== undefined && c.memoryBytes > (l.spoolAfterBytes ?? 0)) {
      if (!c.spool) {
        const path = join(l.spoolDir, `chunk-${++this.#spools}.jsonl`);
        c.spool = { path, handle: await fsp.open(path, 'w') };
      }
      await writeSpool(c);
    }
    return { ok: true, full };
  }

  #fresh(group: string): OpenChunk {
    const open = {
      chunk: emptyChunk(group, this.#limits.overheadBytes),
      remoteIds: new Set<string>(),
      renames: 0,
    };
    this.#open.set(group, open);
    return open;
  }

  /** The item encoded under its `custom_id`, or a fresh `aiwire_<n>` id when that one cannot be used. */
  #encode(open: OpenChunk, item: BatchItem): { remoteId: string; text: string; bytes: number } {
    let remoteId = item.custom_id;
    while (!this.#limits.acceptsId(remoteId) || open.remoteIds.has(remoteId)) {
      open.renames += 1;
      remoteId = `aiwire_${open.renames}`;
    }
    const text = this.#limits.encode(item, remoteId);
    return { remoteId, text, bytes: Buffer.byteLength(text) };
  }

  /** The open chunks (with at least one request), removed from the builder. */
  drain(): Chunk[] {
    const out = [...this.#open.values()].map((o) => o.chunk).filter((c) => c.customIds.length > 0);
    this.#open.clear();
    return out;
  }

  /** Drop the open chunks and their temporary files (after an abort or a failure). */
  async dispose(): Promise<void> {
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(open.map((o) => dropSpool(o.chunk)));
  }
}
