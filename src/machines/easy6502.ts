// `easy6502`: programs from Nick Morgan's easy6502 tutorial, unmodified:
// loaded and started at $0600, the 32x32 screen at $0200-$05FF, a fresh
// random byte at $FE, the last key typed at $FF; BRK ends the program.
// RESET starts the program again at $0600, as the tutorial's Reset button
// does (the reset vector points there).
import type { MachineSpec } from '../machine/description.js';

export const easy6502: MachineSpec = {
  name: 'easy6502',
  title: 'the easy6502 tutorial: program at $0600, 32x32 screen at $0200-$05FF, random byte at $FE, last key at $FF, BRK ends',
  memory: [{ start: 0x0000, end: 0xffff, kind: 'ram' }],
  devices: [
    { type: 'keyboard', id: 'keyboard', options: { lastKeyAddress: 0xff } },
    { type: 'rng', id: 'rng', options: { ramAddress: 0xfe, period: 16 } },
  ],
  console: { device: 'keyboard', lineEnd: 'cr' },
  load: [{ address: 0xfffc, image: { base64: 'AAY=' } }], // the reset vector: $0600
  program: { address: 0x0600, start: 'load' },
  powerOff: 'brk',
  views: [{ kind: 'easy6502-screen', address: 0x0200 }],
};
