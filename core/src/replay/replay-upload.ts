/**
 * Browser uploads of traces (spec §7.6): the request body is piped to a file in the upload
 * folder as it arrives, never held whole in memory, under a name the server picks (the
 * client's name only contributes its safe characters and must end in .jsonl or .jsonl.gz).
 * A body over the limit, or one that stops midway, leaves no file behind.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

export const MAX_UPLOAD_BYTES = 8 * 1024 ** 3;

/** A safe file name for an uploaded trace; throws for a name that is not a trace's. */
export function uploadName(name: string, now: Date): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  if (!/\.jsonl(\.gz)?$/i.test(base)) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `name: "${base.slice(0, 80)}" is not a trace; choose a .jsonl or .jsonl.gz file.`, 'name');
  }
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(-120);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${stamp}-${safe}`;
}

/** Streams `body` to `<dir>/<stamp>-<name>`; resolves with the path and size. */
export async function saveTraceUpload(body: Readable, name: string, dir: string, now: Date, maxBytes = MAX_UPLOAD_BYTES): Promise<{ path: string; bytes: number }> {
  const file = uploadName(name, now);
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  const part = `${path}.part`;
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > maxBytes) cb(new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `body: the upload is larger than ${maxBytes} bytes; copy the trace into the record folder instead.`, 'body'));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(part, { flags: 'wx' }));
  } catch (e) {
    await rm(part, { force: true });
    if (e instanceof SwitchyardError) throw e;
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `body: the upload stopped before the end (${(e as Error).message}); try again.`, 'body');
  }
  if (bytes === 0) {
    await rm(part, { force: true });
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'body: the file is empty.', 'body');
  }
  await rename(part, path);
  return { path, bytes };
}
