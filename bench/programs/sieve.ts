// The "sieve" benchmark workload: a hand-assembled NMOS 6502 program.
//
// How to run this: it is not run directly. bench/cpu.bench.ts loads
// `SIEVE.bytes` at `SIEVE.loadAddress` into flat 64 KiB RAM, starts at
// `SIEVE.startPc` and runs until the `JMP *` at `SIEVE.endPc`; the 16-bit prime
// count is then at `SIEVE.resultAddress` (little-endian).
//
// The algorithm is the BYTE magazine sieve (1981): flag i stands for the odd
// number 2i+3; for every i still flagged, strike i+p, i+2p, ... where p = 2i+3,
// and count it. Here there are 8192 flags, $2000-$3FFF, so the striking loop
// ends when the pointer's high byte reaches $40. Each pass refills the flags
// and recounts. 8192 flags cover the odd numbers 3..16385, which hold 1899
// primes (the same count as BYTE's 8191 flags: 16385 is composite).
//
// Zero page: PTR $00-01 (address of flag i), K $02-03 (strike pointer),
// P $04-05 (2i+3), COUNT $06-07, PASS $08. Y stays 0 outside the fill loop.
// All code is in page $04, so no branch crosses a page.

/** Sieve passes per run. */
export const PASSES = 100;

// prettier-ignore
const code = [
  // addr   bytes      label   source
  0xa9, PASSES,     // $0400  A9 64     start: LDA #PASSES
  0x85, 0x08,       // $0402  85 08            STA PASS
  0xa0, 0x00,       // $0404  A0 00     pass:  LDY #0
  0x84, 0x00,       // $0406  84 00            STY PTR          ; PTR = $xx00
  0x84, 0x06,       // $0408  84 06            STY COUNT
  0x84, 0x07,       // $040A  84 07            STY COUNT+1
  0x84, 0x05,       // $040C  84 05            STY P+1
  0xa9, 0x03,       // $040E  A9 03            LDA #3
  0x85, 0x04,       // $0410  85 04            STA P            ; P = 3 (i = 0)
  0xa2, 0x20,       // $0412  A2 20            LDX #$20
  0x86, 0x01,       // $0414  86 01            STX PTR+1        ; PTR = $2000
  0xa9, 0x01,       // $0416  A9 01            LDA #1
  0x91, 0x00,       // $0418  91 00     fill:  STA (PTR),Y      ; flag = 1: maybe prime
  0xc8,             // $041A  C8               INY
  0xd0, 0xfb,       // $041B  D0 FB            BNE fill
  0xe6, 0x01,       // $041D  E6 01            INC PTR+1
  0xe8,             // $041F  E8               INX
  0xe0, 0x40,       // $0420  E0 40            CPX #$40
  0xd0, 0xf4,       // $0422  D0 F4            BNE fill
  0xa2, 0x20,       // $0424  A2 20            LDX #$20
  0x86, 0x01,       // $0426  86 01            STX PTR+1        ; PTR = $2000 again
  0xb1, 0x00,       // $0428  B1 00     scan:  LDA (PTR),Y      ; flag i
  0xf0, 0x2b,       // $042A  F0 2B            BEQ next         ; struck: not a prime
  0x18,             // $042C  18               CLC
  0xa5, 0x00,       // $042D  A5 00            LDA PTR
  0x65, 0x04,       // $042F  65 04            ADC P
  0x85, 0x02,       // $0431  85 02            STA K
  0xa5, 0x01,       // $0433  A5 01            LDA PTR+1
  0x65, 0x05,       // $0435  65 05            ADC P+1
  0xc9, 0x40,       // $0437  C9 40            CMP #$40
  0xb0, 0x16,       // $0439  B0 16            BCS count        ; K = PTR+P is past the flags
  0x85, 0x03,       // $043B  85 03            STA K+1
  0x98,             // $043D  98        mark:  TYA              ; A = 0
  0x91, 0x02,       // $043E  91 02            STA (K),Y        ; strike
  0x18,             // $0440  18               CLC
  0xa5, 0x02,       // $0441  A5 02            LDA K
  0x65, 0x04,       // $0443  65 04            ADC P
  0x85, 0x02,       // $0445  85 02            STA K
  0xa5, 0x03,       // $0447  A5 03            LDA K+1
  0x65, 0x05,       // $0449  65 05            ADC P+1
  0x85, 0x03,       // $044B  85 03            STA K+1          ; K += P
  0xc9, 0x40,       // $044D  C9 40            CMP #$40
  0x90, 0xec,       // $044F  90 EC            BCC mark
  0xe6, 0x06,       // $0451  E6 06     count: INC COUNT
  0xd0, 0x02,       // $0453  D0 02            BNE next
  0xe6, 0x07,       // $0455  E6 07            INC COUNT+1
  0x18,             // $0457  18        next:  CLC
  0xa5, 0x04,       // $0458  A5 04            LDA P
  0x69, 0x02,       // $045A  69 02            ADC #2
  0x85, 0x04,       // $045C  85 04            STA P
  0x90, 0x02,       // $045E  90 02            BCC +2
  0xe6, 0x05,       // $0460  E6 05            INC P+1          ; P += 2
  0xe6, 0x00,       // $0462  E6 00            INC PTR
  0xd0, 0xc2,       // $0464  D0 C2            BNE scan
  0xe6, 0x01,       // $0466  E6 01            INC PTR+1
  0xa5, 0x01,       // $0468  A5 01            LDA PTR+1
  0xc9, 0x40,       // $046A  C9 40            CMP #$40
  0xd0, 0xba,       // $046C  D0 BA            BNE scan         ; i = 0..8191
  0xc6, 0x08,       // $046E  C6 08            DEC PASS
  0xd0, 0x92,       // $0470  D0 92            BNE pass
  0x4c, 0x72, 0x04, // $0472  4C 72 04  done:  JMP done
];

export const SIEVE = {
  name: 'sieve',
  bytes: Uint8Array.from(code),
  loadAddress: 0x0400,
  startPc: 0x0400,
  /** The `JMP *` the program ends in. */
  endPc: 0x0472,
  /** COUNT: the primes found by the last pass, 16-bit little-endian. */
  resultAddress: 0x0006,
  expectedResult: 1899,
  /** Exact NMOS 6502 counts, the final JMP included (hyper6502, 6502.ts and jsbeeb agree). */
  expectedCycles: 87_959_407,
  expectedInstructions: 28_337_703,
} as const;

/** A 64 KiB memory image with `bytes` at `at`, zeros elsewhere. */
export function flatImage(bytes: Uint8Array, at: number): Uint8Array {
  const image = new Uint8Array(0x10000);
  image.set(bytes, at);
  return image;
}
