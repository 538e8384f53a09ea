// Machine descriptions from JSON files, with the images they name read from
// disk (Node only: pages give bytes).
//
// How to drive this:
//   const spec = await loadMachineFile('my-machine.json');   // a MachineSpec, images as bytes
//   await Machine.create({ machine: spec, program });
// In the file, an image is { "file": "rom.bin" } (relative to the file's
// folder) or { "base64": "..." }; numbers may be written "$C000" or "0xC000".

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DescriptionError, specFromJson, checkMachine, type MachineSpec } from '../machine/description.js';

/** The largest image a description may name: a 64 KiB address space (disk images aside). */
export const IMAGE_FILE_MAX = 16 * 1024 * 1024;

/**
 * Reads a file of at most `max` bytes, refusing anything that is not a
 * regular file (a FIFO, /dev/zero) or is bigger before reading it; errors
 * name the file and the problem.
 */
export function readBoundedFileSync(path: string, max: number, what: string): Uint8Array {
  let fd: number;
  try {
    // Non-blocking, so that a FIFO is looked at, not waited on; checked on the descriptor, so that what is read is what was checked.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new Error(`cannot read ${what} ${path}: it is a directory`);
    if (!info.isFile()) throw new Error(`cannot read ${what} ${path}: not a regular file (a device or a pipe has no end to read to)`);
    if (info.size > max) throw new Error(`${what} ${path} is ${info.size} bytes, more than ${max}`);
    const bytes = readAtMost(fd, info.size, max);
    if (!bytes) throw new Error(`${what} ${path} is more than ${max} bytes`);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of an open file, read to its end but never more than max + 1 of
 * them, whatever size it said it has (/proc files say 0); null when there are
 * more than max.
 */
export function readAtMost(fd: number, declaredSize: number, max: number): Uint8Array | null {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const chunk = new Uint8Array(Math.min(Math.max(declaredSize - length + 1, 1 << 16), max + 1 - length, 1 << 24));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    length += n;
    if (length > max) return null;
  }
  const bytes = new Uint8Array(length);
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);
  return bytes;
}

/** readBoundedFileSync, for async callers. */
export async function readBoundedFile(path: string, max: number, what: string): Promise<Uint8Array> {
  return readBoundedFileSync(path, max, what);
}

/** Replaces every { file } image in a parsed description with the file's bytes. */
export async function readImages(value: unknown, baseDir: string, field = 'machine'): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => readImages(v, baseDir, `${field}[${i}]`)));
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const o = value as Record<string, unknown>;
  if (Object.keys(o).length === 1 && typeof o.file === 'string') {
    try {
      return await readBoundedFile(resolve(baseDir, o.file), IMAGE_FILE_MAX, 'image');
    } catch (err) {
      throw new DescriptionError(field, (err as Error).message);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = await readImages(v, baseDir, field === 'machine' ? k : `${field}.${k}`);
  return out;
}

/** A machine description from a JSON file, checked (a DescriptionError names what is wrong). */
export async function loadMachineFile(path: string): Promise<MachineSpec> {
  const bytes = await readBoundedFile(path, 4 * 1024 * 1024, 'machine description');
  let parsed: unknown;
  try {
    parsed = specFromJson(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DescriptionError(path, `is not valid JSON: ${(err as Error).message}`);
  }
  const spec = (await readImages(parsed, dirname(resolve(path)))) as MachineSpec;
  checkMachine(spec, { partial: true });
  return spec;
}
