// Machine descriptions from JSON files, with the images they name read from
// disk (Node only: pages give bytes).
//
// How to drive this:
//   const spec = await loadMachineFile('my-machine.json');   // a MachineSpec, images as bytes
//   await Machine.create({ machine: spec, program });
// In the file, an image is { "file": "rom.bin" } (relative to the file's
// folder) or { "base64": "..." }; numbers may be written "$C000" or "0xC000".

import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DescriptionError, specFromJson, checkMachine, type MachineSpec } from '../machine/description.js';

/** The largest image a description may name: a 64 KiB address space (disk images aside). */
export const IMAGE_FILE_MAX = 16 * 1024 * 1024;

/** Reads a file of at most `max` bytes, refusing anything that is not a regular file (a FIFO, /dev/zero) before reading it. */
export async function readBoundedFile(path: string, max: number, what: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (info.isDirectory()) throw new Error(`cannot read ${what} ${path}: it is a directory`);
  if (!info.isFile()) throw new Error(`cannot read ${what} ${path}: not a regular file`);
  if (info.size > max) throw new Error(`${what} ${path} is ${info.size} bytes, more than ${max}`);
  const bytes = new Uint8Array(await readFile(path));
  if (bytes.length > max) throw new Error(`${what} ${path} is more than ${max} bytes`);
  return bytes;
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
