// `hyper6502 link -C FILE.cfg OBJ... -o OUT`: ld65's linker, for the object
// files `hyper6502 asm FILE -o FILE.o` writes.
//
// How to drive this: `await linkCommand(argv, io)` with argv after "link";
// returns 0, or 1 when linking fails (each problem on its own line, as ld65
// words it). Bad options and unreadable files are UsageErrors (one line,
// exit 2). -Ln writes the label file, -m the map file, --dbgfile the debug
// info, each the way ld65 writes it.

import { basename } from 'node:path';
import { link } from '../asm/linker.js';
import { parseLinkerConfig, ConfigError } from '../asm/ldconfig.js';
import { readObject, ObjectError } from '../asm/object.js';
import { writeDebugInfo } from '../asm/dbginfo.js';
import { UsageError, parseAddress, parseNumber, parseOptions } from './args.js';
import { describeFsError, readSourceFile, write } from './asm.js';
import type { CliIo } from './run.js';

export const LINK_USAGE = `Usage: hyper6502 link -C FILE.cfg OBJ... -o OUT [options]

Links object files (from hyper6502 asm FILE -o FILE.o) as ld65 does, placing
their segments by an ld65 configuration file.

Options:
  -C, --config FILE      the ld65 configuration (MEMORY, SEGMENTS, ...)
  -o, --output OUT       the output file (%O in the configuration; default a.out)
  -S, --start-addr ADDR  the start address, %S (default: the config's STARTADDRESS, else $200)
  -D NAME=VALUE          define a symbol, as ld65 -D
  --Ln FILE              write the label file (VICE "al" lines)
  -m, --mapfile FILE     write the map file
  --dbgfile FILE         write the debug info file
  -h, --help             this text

The configuration and the object files are read only if each is a regular
file of at most 16 MiB: a device, a pipe or a bigger file is refused first.`;

function readText(path: string): string {
  try {
    return readSourceFile(path).toString('utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(err)}`);
  }
}

/** -D NAME=VALUE (ld65 wants the value). */
function linkerDefines(list: readonly string[]): Record<string, number> {
  const defines: Record<string, number> = {};
  for (const d of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(d);
    if (!m) throw new UsageError(`-D ${d}: expected NAME=VALUE`);
    defines[m[1]] = parseNumber(m[2], `-D ${m[1]}`, 0xffffffff);
  }
  return defines;
}

export async function linkCommand(argv: string[], io: CliIo): Promise<number> {
  // ld65 spells the label file option -Ln; parseArgs takes long options with two dashes.
  argv = argv.map((a) => (a === '-Ln' ? '--Ln' : a));
  const { values, positionals } = parseOptions('link', argv, {
    config: { type: 'string', short: 'C' },
    output: { type: 'string', short: 'o' },
    'start-addr': { type: 'string', short: 'S' },
    define: { type: 'string', short: 'D', multiple: true, default: [] },
    Ln: { type: 'string' },
    mapfile: { type: 'string', short: 'm' },
    dbgfile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(LINK_USAGE + '\n');
    return 0;
  }
  if (!values.config) throw new UsageError('link needs a configuration: -C FILE.cfg');
  if (positionals.length === 0) throw new UsageError('link needs object files to link');
  let config;
  try {
    config = parseLinkerConfig(readText(values.config), values.config);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const modules = positionals.map((path) => {
    try {
      return readObject(readText(path), path);
    } catch (err) {
      if (err instanceof ObjectError) throw new UsageError(err.message);
      throw err;
    }
  });
  const output = values.output ?? 'a.out';
  let result;
  try {
    result = link(modules, config, {
      output,
      names: positionals.map((p) => basename(p)),
      defines: linkerDefines(values.define),
      startAddress: values['start-addr'] !== undefined ? parseAddress(values['start-addr'], '--start-addr') : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  for (const w of result.warnings) io.stderr(`Warning: ${w}\n`);
  if (result.errors.length) {
    for (const e of result.errors) io.stderr(`Error: ${e}\n`);
    return 1;
  }
  for (const [name, bytes] of result.files) write(name, bytes);
  if (values.Ln !== undefined) write(values.Ln, result.labels);
  if (values.mapfile !== undefined) write(values.mapfile, result.map);
  if (values.dbgfile !== undefined) write(values.dbgfile, writeDebugInfo(result));
  return 0;
}
