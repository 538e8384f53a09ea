// `hyper6502 run FILE`: load a raw binary into a flat 64 KiB RAM machine and run it.
//
// How to drive this: `await runCommand(argv, io)` with argv after "run";
// returns the process exit code. Errors in the input are UsageErrors.

import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { CoreMemory, ExitReason, EXIT_NAMES, hex } from '../core/cpu.js';
import type { CpuModel } from '../isa/opcodes.js';
import { UsageError, parseAddress, parseNumber } from './args.js';

export const RUN_USAGE = `Usage: hyper6502 run FILE [options]

Loads FILE (a raw binary) into 64 KiB of RAM and runs it.

Options:
  --cpu 6502|65c02       CPU model (default 6502)
  --load ADDR            load address (default 0)
  --start ADDR           start address (default: the reset vector at $FFFC)
  --max-cycles N         stop after N cycles
  --stop-on-self-loop    stop when an instruction jumps or branches to itself
  --stats                print one JSON line of statistics on stderr at the end
Numbers are decimal, $hex or 0xhex.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      cpu: { type: 'string', default: '6502' },
      load: { type: 'string' },
      start: { type: 'string' },
      'max-cycles': { type: 'string' },
      'stop-on-self-loop': { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(RUN_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `run takes one FILE, got ${positionals.length}: ${positionals.join(' ')}` : 'run needs a FILE to run');
  const file = positionals[0];
  const model = values.cpu.toLowerCase();
  if (model !== '6502' && model !== '65c02') throw new UsageError(`--cpu: unknown CPU "${values.cpu}" (use 6502 or 65c02)`);
  const load = values.load === undefined ? 0 : parseAddress(values.load, '--load');
  const start = values.start === undefined ? undefined : parseAddress(values.start, '--start');
  const maxCycles = values['max-cycles'] === undefined ? Infinity : parseNumber(values['max-cycles'], '--max-cycles');

  let image: Uint8Array;
  try {
    image = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  if (image.length === 0) throw new UsageError(`${file} is empty`);
  if (load + image.length > 0x10000) {
    throw new UsageError(`${file} (${image.length} bytes) does not fit at $${hex(load, 4)}: it would end at $${hex(load + image.length - 1, 5)}, past $FFFF`);
  }

  const core = await CoreMemory.create();
  const cpu = core.cpu(0, model as CpuModel);
  cpu.ram.set(image, load);
  cpu.pc = start ?? cpu.ram[0xfffc] | (cpu.ram[0xfffd] << 8);
  cpu.stopOnSelfLoop = values['stop-on-self-loop'];

  const t0 = performance.now();
  let reason: ExitReason;
  for (;;) {
    const left = maxCycles - cpu.cycles;
    if (left <= 0) {
      reason = ExitReason.Budget;
      break;
    }
    reason = cpu.run(Math.min(left, 1_000_000));
    if (reason !== ExitReason.Budget) break;
  }
  const seconds = (performance.now() - t0) / 1000;

  if (values.stats) {
    const stats = {
      reason: reason === ExitReason.Budget ? 'max-cycles' : EXIT_NAMES[reason],
      pc: cpu.pc,
      a: cpu.a,
      x: cpu.x,
      y: cpu.y,
      s: cpu.s,
      p: cpu.p,
      cycles: cpu.cycles,
      instructions: cpu.instructions,
      seconds: Number(seconds.toFixed(6)),
      mhz: Number((seconds > 0 ? cpu.cycles / seconds / 1e6 : 0).toFixed(2)),
    };
    io.stderr(JSON.stringify(stats) + '\n');
  }
  return 0;
}
