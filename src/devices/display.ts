// Displays that live in guest RAM: the easy6502 32x32 colour screen and a
// text screen. They have no registers: the guest writes RAM, the host draws.
//
// How to drive this:
//   const screen = new Easy6502Screen(machine.cpu.ram);   // $0200-$05FF
//   screen.render(rgba);                                  // 32*32*4 bytes, RGBA
//   const text = new TextScreen(machine.cpu.ram, { address: 0x0400, columns: 40, rows: 25 });
//   text.lines();                                         // ["HELLO", ...]

/** easy6502's 16 colours (the C64 palette it uses), as 0xRRGGBB. */
export const EASY6502_PALETTE = [
  0x000000, 0xffffff, 0x880000, 0xaaffee, 0xcc44cc, 0x00cc55, 0x0000aa, 0xeeee77,
  0xdd8855, 0x664400, 0xff7777, 0x333333, 0x777777, 0xaaff66, 0x0088ff, 0xbbbbbb,
];

export class Easy6502Screen {
  static readonly ADDRESS = 0x0200;
  static readonly WIDTH = 32;
  static readonly HEIGHT = 32;

  constructor(
    private readonly ram: Uint8Array,
    private readonly address = Easy6502Screen.ADDRESS,
  ) {
    if (address < 0 || address + 1024 > 0x10000) throw new RangeError('the easy6502 screen does not fit in memory there');
  }

  /** The colour index (0-15) of pixel (x, y). */
  pixel(x: number, y: number): number {
    return this.ram[this.address + y * 32 + x] & 0x0f;
  }

  /** Draws the screen into `rgba` (32*32*4 bytes, or a canvas ImageData's data). */
  render(rgba: Uint8Array | Uint8ClampedArray) {
    for (let i = 0; i < 1024; i++) {
      const c = EASY6502_PALETTE[this.ram[this.address + i] & 0x0f];
      rgba[i * 4] = c >> 16;
      rgba[i * 4 + 1] = (c >> 8) & 0xff;
      rgba[i * 4 + 2] = c & 0xff;
      rgba[i * 4 + 3] = 0xff;
    }
  }
}

export interface TextScreenOptions {
  address: number;
  columns: number;
  rows: number;
}

/** A character screen: one byte per cell, row after row; bytes below $20 show as spaces. */
export class TextScreen {
  constructor(private readonly ram: Uint8Array, readonly options: TextScreenOptions) {
    if (options.address + options.columns * options.rows > 0x10000) throw new RangeError('text screen does not fit in memory');
  }

  lines(): string[] {
    const { address, columns, rows } = this.options;
    const out: string[] = [];
    for (let r = 0; r < rows; r++) {
      let line = '';
      for (let c = 0; c < columns; c++) {
        const b = this.ram[address + r * columns + c] & 0x7f;
        line += b < 0x20 || b === 0x7f ? ' ' : String.fromCharCode(b);
      }
      out.push(line.trimEnd());
    }
    return out;
  }
}
