// `board`: the project's own small computer, for its example programs. The
// program is its ROM, placed at the top of $E000-$FFFF (vectors included).
import type { MachineSpec } from '../machine/description.js';

export const board: MachineSpec = {
  name: 'board',
  title: "the project's board computer: RAM, a 6551 terminal, a 6522 VIA, storage, random, keyboard, power register; ROM at $E000-$FFFF",
  memory: [
    { start: 0x0000, end: 0xc0ff, kind: 'ram' },
    { start: 0xc100, end: 0xdfff, kind: 'unmapped' },
    { start: 0xe000, end: 0xffff, kind: 'rom' },
  ],
  devices: [
    { type: 'acia6551', id: 'acia', address: 0xc000 },
    { type: 'via6522', id: 'via', address: 0xc010 },
    { type: 'storage', id: 'storage', address: 0xc020 },
    { type: 'rng', id: 'rng', address: 0xc030 },
    { type: 'keyboard', id: 'keyboard', address: 0xc040 },
    { type: 'power', id: 'power', address: 0xc0f0 },
  ],
  console: { device: 'acia', lineEnd: 'cr' },
  program: { end: 0xffff },
  views: [{ kind: 'text-screen', address: 0x0400, columns: 40, rows: 25 }, { kind: 'terminal' }],
};
