// `hyper6502 machines [NAME]`: the built-in machines with their memory maps
// and devices; with NAME, that machine's description as JSON (a start for a
// description of one's own).
//
// How to drive this: `machinesCommand(argv, io)`; returns the exit code.

import { checkMachine, findMachine, machineNames, specToJson } from '../machine/description.js';
import { hex } from '../core/cpu.js';
import { UsageError, parseOptions } from './args.js';
import type { CliIo } from './run.js';

export const MACHINES_USAGE = `Usage: hyper6502 machines [NAME] [--json]

Lists the built-in machines, each with its memory map and devices. With NAME,
shows that machine; with --json, its description as JSON (copy it to describe
a machine of your own, and run it with hyper6502 run --machine FILE.json).

Options:
  --json        the description as JSON
  -h, --help    this text`;

export function machinesCommand(argv: string[], io: CliIo): number {
  const { values, positionals } = parseOptions('machines', argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(MACHINES_USAGE + '\n');
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`machines takes at most one NAME, got ${positionals.join(' ')}`);
  const names = positionals.length ? positionals : machineNames();
  for (const name of names) {
    const spec = findMachine(name);
    if (!spec) throw new UsageError(`no machine "${name}" (built in: ${machineNames().join(', ')})`);
    if (values.json) {
      io.stdout(JSON.stringify(JSON.parse(specToJson(spec)), null, 2) + '\n');
      continue;
    }
    const m = checkMachine(spec, { partial: true });
    const lines = [`${name}: ${spec.title ?? ''}`, `  cpu ${m.cpu}${spec.clockHz ? `, ${spec.clockHz.toLocaleString('en-US')} Hz` : ''}`];
    const range = (a: number, b: number) => `$${hex(a, 4)}-$${hex(b, 4)}`;
    for (const r of m.memory) lines.push(`  ${range(r.start, r.end)}  ${r.kind.toUpperCase()}${r.needs ? ` (needs ${r.needs})` : ''}`);
    for (const d of m.devices) {
      const where = d.address === undefined ? '           ' : `${range(d.address, d.address + d.type.size - 1)}`.padEnd(11);
      lines.push(`  ${where}  ${d.type.type}${d.id !== d.type.type ? ` "${d.id}"` : ''}${m.console?.device === d.id ? ' (console)' : ''}`);
    }
    if (m.powerOff === 'brk') lines.push('  BRK ends the run');
    io.stdout(lines.join('\n') + '\n\n');
  }
  return 0;
}
