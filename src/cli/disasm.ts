// `hyper6502 disasm FILE`: a listing of a raw binary or a sim65 program.
//
// How to drive this: `await disasmCommand(argv, io)` with argv after
// "disasm"; returns the exit code.

import { disassemble, formatInstruction } from '../isa/disasm.js';
import { isSim65, parseSim65, Sim65FormatError } from '../devices/sim65.js';
import { hex } from '../core/cpu.js';
import { parseCpuModel, type CpuModel } from '../isa/opcodes.js';
import { UsageError, parseAddress, parseNumber, parseOptions } from './args.js';
import { readBoundedFile } from '../node/files.js';
import type { CliIo } from './run.js';

export const DISASM_USAGE = `Usage: hyper6502 disasm FILE [options]

Lists the instructions of FILE: a sim65 program (its header gives the load
address and CPU), or a raw binary.

Options:
  --cpu 6502|65c02    CPU model for a raw binary (default 6502)
  --org ADDR          where a raw binary is loaded (default 0)
  --start ADDR        first address to list (default: the load address)
  --count N           instructions to list (default: to the end of the file)
  -h, --help          this text

FILE is read only if it is a regular file of at most 64 KiB (and a sim65
header): a device, a pipe or a bigger file is refused before it is read.`;

/** The largest FILE: 64 KiB and a sim65 header. */
const FILE_MAX = 0x10000 + 12;

export async function disasmCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('disasm', argv, {
    cpu: { type: 'string' },
    org: { type: 'string' },
    start: { type: 'string' },
    count: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(DISASM_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `disasm takes one FILE, got ${positionals.length}` : 'disasm needs a FILE');
  const file = positionals[0];
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedFile(file, FILE_MAX, 'program');
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^cannot read program /, 'cannot read '));
  }
  let model: CpuModel;
  let org: number;
  let body: Uint8Array;
  if (isSim65(bytes)) {
    if (values.cpu || values.org) throw new UsageError(`--cpu and --org do not apply to ${file}: its sim65 header says`);
    let program;
    try {
      program = parseSim65(bytes, file);
    } catch (err) {
      if (err instanceof Sim65FormatError) throw new UsageError(err.message);
      throw err;
    }
    ({ cpu: model, loadAddress: org, body } = program);
  } else {
    const cpu = parseCpuModel(values.cpu ?? '6502', (why) => new UsageError(`--cpu: ${why}`));
    model = cpu;
    org = values.org === undefined ? 0 : parseAddress(values.org, '--org');
    body = bytes;
    if (org + body.length > 0x10000) throw new UsageError(`${file} (${body.length} bytes) does not fit at $${hex(org, 4)}`);
  }
  const end = org + body.length;
  let address = values.start === undefined ? org : parseAddress(values.start, '--start');
  if (address < org || address >= end) throw new UsageError(`--start $${hex(address, 4)} is outside the file ($${hex(org, 4)}-$${hex(end - 1, 4)})`);
  const count = values.count === undefined ? Infinity : parseNumber(values.count, '--count');
  const memory = new Uint8Array(0x10000);
  memory.set(body, org);
  const lines: string[] = [];
  for (let n = 0; n < count && address < end; n++) {
    const ins = disassemble(memory, address, model);
    lines.push(formatInstruction(ins));
    address += ins.bytes.length;
  }
  io.stdout(lines.join('\n') + '\n');
  return 0;
}
