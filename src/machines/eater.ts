// `eater`: Ben Eater's breadboard 65C02 computer. RAM $0000-$3FFF, a 6551
// ACIA at $5000 (the terminal; its receive interrupt feeds the ROM's input
// buffer, and port A bit 0 of the VIA is the line's RTS), a 6522 VIA at
// $6000 with the HD44780 LCD on port B (4-bit: D4-D7 on PB0-PB3, RS PB4,
// RW PB5, E PB6), ROM $8000-$FFFF: his Wozmon + Microsoft BASIC image.
import type { MachineSpec } from '../machine/description.js';

export const eater: MachineSpec = {
  name: 'eater',
  title: "Ben Eater's 6502 computer: RAM $0000-$3FFF, 6551 ACIA $5000, 6522 VIA $6000 with a 16x2 LCD, ROM $8000-$FFFF",
  cpu: '65c02',
  clockHz: 1_000_000,
  memory: [
    { start: 0x0000, end: 0x3fff, kind: 'ram' },
    { start: 0x8000, end: 0xffff, kind: 'rom', needs: "a ROM image (Ben Eater's 32 KiB Wozmon + BASIC: eater.bin, --load 0x8000)" },
  ],
  devices: [
    { type: 'via6522', id: 'via', address: 0x6000 },
    { type: 'acia6551', id: 'acia', address: 0x5000, options: { rts: 'via', rtsPort: 'A', rtsBit: 0 } },
    { type: 'hd44780', id: 'lcd', options: { via: 'via', port: 'B', e: 6, rw: 5, rs: 4, dataLines: 4, dataBit: 0 } },
  ],
  console: { device: 'acia', lineEnd: 'cr' },
  program: { address: 0x8000 },
  views: [{ kind: 'lcd', device: 'lcd' }, { kind: 'terminal' }],
};
