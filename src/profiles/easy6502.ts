// The `easy6502` profile: programs from Nick Morgan's easy6502 tutorial run
// unmodified.
//
// How to drive this:
//   const { description, keyboard } = easy6502Description(bytes);
//   const m = await Machine.create(description);
//   keyboard.press('w');                       // becomes the byte at $FF
//   m.run(100_000);                            // 'exit' once the program reaches BRK
//   new Easy6502Screen(m.cpu.ram).render(rgba) // the 32x32 screen at $0200-$05FF
//
// Memory: 64 KiB of RAM; the program loads and starts at $0600; $FE holds a
// fresh random byte every few cycles, $FF the last key pressed. As in
// easy6502, BRK ends the program (through a trap at the BRK vector).

import type { MachineDescription } from '../machine/machine.js';
import { Keyboard } from '../devices/keyboard.js';
import { RandomSource } from '../devices/rng.js';

export const EASY6502_START = 0x0600;
const BRK_TRAP = 0xfff0;

export interface Easy6502Options {
  seed?: number;
  /** Cycles between new random bytes at $FE (default 16). */
  randomPeriod?: number;
}

export function easy6502Description(program: Uint8Array, options: Easy6502Options = {}) {
  if (EASY6502_START + program.length > BRK_TRAP) throw new RangeError(`an easy6502 program of ${program.length} bytes does not fit at $0600`);
  const keyboard = new Keyboard({ lastKeyAddress: 0xff });
  const rng = new RandomSource({ seed: options.seed, ramAddress: 0xfe, period: options.randomPeriod ?? 16 });
  const image = new Uint8Array(0x10000);
  image.set(program, EASY6502_START);
  image[BRK_TRAP] = 0x02; // BRK jumps here and traps
  image[0xfffe] = BRK_TRAP & 0xff;
  image[0xffff] = BRK_TRAP >> 8;
  const description: MachineDescription = {
    cpu: '6502',
    program: { bytes: image, address: 0, start: EASY6502_START },
    // Off the bus: the keyboard writes $FF, the RNG writes $FE.
    devices: [{ device: keyboard }, { device: rng }],
    trap: {
      opcode: 0x02,
      handler: (m) => {
        if (m.cpu.pc !== BRK_TRAP) return 'unhandled';
        m.powerOff(0);
        return 'handled';
      },
    },
  };
  return { description, keyboard, rng };
}
