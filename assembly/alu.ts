// The decimal-mode arithmetic of both CPU families, out of line for the
// generated run loops (assembly/generated/cpu.ts).
//
// How to drive this: nothing here is called by the host. The helpers return a
// packed result: bits 0-7 the accumulator, bit 8 C, bit 9 V, bit 10 N, bit 11 Z.

// ---- Decimal mode ---------------------------------------------------------------
// After Bruce Clark, "Decimal Mode" (6502.org tutorial), appendix A, which
// gives each chip's behaviour for every operand, valid BCD or not.

@inline function pack(result: i32, c: i32, v: i32, n: i32, z: i32): i32 {
  return (result & 0xFF) | (c << 8) | (v << 9) | (n << 10) | (z << 11);
}

/** The low digit of a decimal addition, adjusted, with its carry at bit 4. */
@inline function adcLowDigit(a: i32, b: i32, c: i32): i32 {
  let al = (a & 0x0F) + (b & 0x0F) + c;
  if (al >= 0x0A) al = ((al + 0x06) & 0x0F) + 0x10;
  return al;
}

export function adcDecimalNmos(a: i32, b: i32, c: i32): i32 {
  const al = adcLowDigit(a, b, c);
  const signed = <i32><i8>(a & 0xF0) + <i32><i8>(b & 0xF0) + al;
  let r = (a & 0xF0) + (b & 0xF0) + al;
  if (r >= 0xA0) r += 0x60;
  return pack(r, <i32>(r >= 0x100), <i32>(signed < -128 || signed > 127), (signed >> 7) & 1, <i32>(((a + b + c) & 0xFF) == 0));
}

export function adcDecimalCmos(a: i32, b: i32, c: i32): i32 {
  const al = adcLowDigit(a, b, c);
  const signed = <i32><i8>(a & 0xF0) + <i32><i8>(b & 0xF0) + al;
  let r = (a & 0xF0) + (b & 0xF0) + al;
  if (r >= 0xA0) r += 0x60;
  return pack(r, <i32>(r >= 0x100), <i32>(signed < -128 || signed > 127), (r >> 7) & 1, <i32>((r & 0xFF) == 0));
}

export function sbcDecimalNmos(a: i32, b: i32, c: i32): i32 {
  const bin = a - b - 1 + c;
  let al = (a & 0x0F) - (b & 0x0F) + c - 1;
  if (al < 0) al = ((al - 0x06) & 0x0F) - 0x10;
  let r = (a & 0xF0) - (b & 0xF0) + al;
  if (r < 0) r -= 0x60;
  const v = <i32>(((a ^ b) & (a ^ bin) & 0x80) != 0);
  return pack(r, <i32>(bin >= 0), v, (bin >> 7) & 1, <i32>((bin & 0xFF) == 0));
}

export function sbcDecimalCmos(a: i32, b: i32, c: i32): i32 {
  const bin = a - b - 1 + c;
  const al = (a & 0x0F) - (b & 0x0F) + c - 1;
  let r = bin;
  if (r < 0) r -= 0x60;
  if (al < 0) r -= 0x06;
  const v = <i32>(((a ^ b) & (a ^ bin) & 0x80) != 0);
  return pack(r, <i32>(bin >= 0), v, (r >> 7) & 1, <i32>((r & 0xFF) == 0));
}

/** ARR (NMOS, undocumented): AND #imm then ROR, with its own decimal-mode fix-ups. `t` is A & imm. */
export function arr(t: i32, c: i32, decimal: i32): i32 {
  let r = (t >> 1) | (c << 7);
  if (!decimal) {
    return pack(r, (r >> 6) & 1, ((r >> 6) ^ (r >> 5)) & 1, (r >> 7) & 1, <i32>(r == 0));
  }
  const n = c;
  const z = <i32>(r == 0);
  const v = ((t ^ r) >> 6) & 1;
  if ((t & 0x0F) + (t & 0x01) > 5) r = (r & 0xF0) | ((r + 6) & 0x0F);
  let carry = 0;
  if ((t & 0xF0) + (t & 0x10) > 0x50) {
    r = (r + 0x60) & 0xFF;
    carry = 1;
  }
  return pack(r, carry, v, n, z);
}
