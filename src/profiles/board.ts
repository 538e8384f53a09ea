// The `board` profile: the project's own small computer, for its example
// programs.
//
// How to drive this:
//   const board = boardDescription({ rom, output: (b) => term.write(b) });
//   const m = await Machine.create(board.description);
//   board.acia.input('hello\r');
//   m.run(1_000_000);
//
// Memory map:
//   $0000-$BFFF  RAM (the text screen is $0400-$07E7: 40 x 25 characters)
//   $C000-$C003  6551 ACIA: the console (terminal) serial port
//   $C010-$C01F  6522 VIA: ports and two timers (IRQ)
//   $C020-$C027  block storage: 512-byte sectors by DMA
//   $C030        random-number source (read)
//   $C040-$C041  keyboard queue
//   $C0F0        power register: a write ends the run with that exit code
//   $C100-$DFFF  unmapped
//   $E000-$FFFF  ROM (the program; its vectors at $FFFA-$FFFF), or RAM when
//                the program is loaded into RAM instead
// The CPU starts through the reset vector.

import type { MachineDescription } from '../machine/machine.js';
import type { CpuModel } from '../isa/opcodes.js';
import { Acia6551 } from '../devices/acia6551.js';
import { Via6522, type ViaOptions } from '../devices/via6522.js';
import { BlockStorage, MemoryBlockStore, type BlockStore } from '../devices/storage.js';
import { RandomSource } from '../devices/rng.js';
import { Keyboard } from '../devices/keyboard.js';
import { PowerRegister } from '../devices/power.js';
import { TextScreen } from '../devices/display.js';

export const BOARD = {
  ACIA: 0xc000,
  VIA: 0xc010,
  STORAGE: 0xc020,
  RNG: 0xc030,
  KEYBOARD: 0xc040,
  POWER: 0xc0f0,
  TEXT_SCREEN: 0x0400,
  ROM: 0xe000,
} as const;

export interface BoardOptions {
  cpu?: CpuModel;
  /** A ROM image for $E000-$FFFF (up to 8 KiB, placed at its top), or a program for RAM. */
  rom?: Uint8Array;
  program?: { bytes: Uint8Array; address: number; start?: number };
  output?: (byte: number) => void;
  via?: ViaOptions;
  storage?: BlockStore;
  seed?: number;
}

export function boardDescription(options: BoardOptions = {}) {
  const acia = new Acia6551({ output: options.output });
  const via = new Via6522(options.via);
  const storage = new BlockStorage(options.storage ?? new MemoryBlockStore(new Uint8Array(64 * 512)));
  const rng = new RandomSource({ seed: options.seed });
  const keyboard = new Keyboard();
  const power = new PowerRegister();
  const memory: MachineDescription['memory'] = [{ start: 0xc100, end: 0xdfff, kind: 'unmapped' }];
  if (options.rom) {
    if (options.rom.length > 0x2000) throw new RangeError(`a board ROM holds at most 8 KiB, got ${options.rom.length} bytes`);
    const data = new Uint8Array(0x2000);
    data.set(options.rom, 0x2000 - options.rom.length);
    memory.push({ start: BOARD.ROM, end: 0xffff, kind: 'rom', data });
  }
  const description: MachineDescription = {
    cpu: options.cpu ?? '6502',
    memory,
    program: options.program,
    devices: [
      { address: BOARD.ACIA, size: 4, device: acia },
      { address: BOARD.VIA, size: 16, device: via },
      { address: BOARD.STORAGE, size: 8, device: storage },
      { address: BOARD.RNG, size: 1, device: rng },
      { address: BOARD.KEYBOARD, size: 2, device: keyboard },
      { address: BOARD.POWER, size: 1, device: power },
    ],
  };
  return {
    description,
    acia,
    via,
    storage,
    rng,
    keyboard,
    textScreen: (ram: Uint8Array) => new TextScreen(ram, { address: BOARD.TEXT_SCREEN, columns: 40, rows: 25 }),
  };
}
