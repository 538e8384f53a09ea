// A machine's console: the guest's terminal, as the host sees it.
//
// How to drive this:
//   const console = new MachineConsole({ lineEnd: 'cr', upperCase: true });
//   console.input('10 PRINT "HI"\n');       // host keys: LF, CR or CR LF become the machine's line end
//   console.takeOutput();                  // what the guest printed since the last call
//   console.closeInput();                  // stdin is at its end
// The device the machine's description names as its console (a UART, a
// keyboard port, py65mon's character I/O) reads the input queue through the
// ConsolePort side (`read`, `available`, `onInput`) and prints with `write`.
//
// Input is never dropped: the queue holds what the host gave until the guest
// reads it, and `waiting` tells a producer when to hold back (backpressure).
// Output goes to `sink` when there is one (the CLI), else into a bounded
// buffer the host takes from (the hypervisor): bytes over OUTPUT_LIMIT are
// dropped and counted there, never held without bound.

import { StateReader, StateWriter } from '../devices/device.js';

/** Bytes of guest output a console holds before the host takes them. */
export const OUTPUT_LIMIT = 64 * 1024;
/** Bytes of input a console holds for the guest; more is refused, never dropped (see `input`). */
export const INPUT_LIMIT = 1024 * 1024;

export type LineEnd = 'cr' | 'lf' | 'crlf' | 'none';

export interface ConsoleOptions {
  /**
   * What the guest takes as the end of a typed line: 'cr' (most 6502 systems),
   * 'lf', 'crlf', or 'none' (bytes pass unchanged: cc65 programs read LF).
   * The host's LF, CR and CR LF each become one such line end.
   */
  lineEnd?: LineEnd;
  /** Echo typed bytes back as output (for guests that do not echo). */
  echo?: boolean;
  /** Turn typed lower-case letters into upper case (machines that only know upper case). */
  upperCase?: boolean;
  /** The guest ends its output lines with CR alone (the Apple 1): hosts show each CR as a new line. */
  crIsNewline?: boolean;
}

/** What a console device sees of the console. */
export interface ConsolePort {
  /** Prints a byte (or bytes). */
  write(bytes: Uint8Array | number): void;
  /** Takes the next input byte, or -1 when none waits. */
  read(): number;
  /** Input bytes waiting. */
  readonly available: number;
  /** Calls `listener` whenever input arrives (a UART raises its interrupt). */
  onInput(listener: () => void): void;
}

const LINE_END_BYTES: Record<LineEnd, number[] | null> = { cr: [0x0d], lf: [0x0a], crlf: [0x0d, 0x0a], none: null };

export class MachineConsole implements ConsolePort {
  readonly options: Required<ConsoleOptions>;
  /** Where output goes at once (instead of the bounded buffer). */
  sink?: (bytes: Uint8Array) => void;
  private out = new Uint8Array(256);
  private outLength = 0;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queued = 0;
  private listeners: Array<() => void> = [];
  /** The last host byte was CR: an LF right after it belongs to the same line end. */
  private afterCr = false;
  /** Output bytes dropped because the buffer was full. */
  dropped = 0;
  /** All output bytes the guest produced. */
  produced = 0;
  /** All input bytes the guest consumed. */
  consumed = 0;
  /** No more input will come (stdin at its end). */
  inputClosed = false;

  constructor(options: ConsoleOptions = {}) {
    this.options = { lineEnd: options.lineEnd ?? 'none', echo: options.echo ?? false, upperCase: options.upperCase ?? false, crIsNewline: options.crIsNewline ?? false };
  }

  // ---- The host's side --------------------------------------------------------

  /**
   * Queues host input for the guest, translated for the machine (line ends,
   * upper case, echo). Returns the number of bytes now waiting. Throws a
   * RangeError, accepting nothing, when that would pass INPUT_LIMIT: input is
   * refused, never silently dropped.
   */
  input(data: Uint8Array | string): number {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const translated = this.translate(bytes);
    if (this.queued + translated.length > INPUT_LIMIT) {
      throw new RangeError(`console input refused: ${translated.length} more bytes would pass the ${INPUT_LIMIT}-byte queue (${this.queued} are waiting)`);
    }
    this.commitTranslation(bytes);
    if (translated.length) {
      this.queue.push(translated);
      this.queued += translated.length;
      if (this.options.echo) this.write(translated);
      for (const l of this.listeners) l();
    }
    return this.queued;
  }

  /** The host bytes as the guest gets them (does not change the CR state: see commitTranslation). */
  private translate(bytes: Uint8Array): Uint8Array {
    const end = LINE_END_BYTES[this.options.lineEnd];
    const upper = this.options.upperCase;
    if (!end && !upper) return bytes.slice();
    const out: number[] = [];
    let afterCr = this.afterCr;
    for (const b of bytes) {
      if (end && (b === 0x0d || b === 0x0a)) {
        if (b === 0x0a && afterCr) {
          afterCr = false;
          continue;
        }
        afterCr = b === 0x0d;
        out.push(...end);
        continue;
      }
      afterCr = false;
      out.push(upper && b >= 0x61 && b <= 0x7a ? b - 0x20 : b);
    }
    return Uint8Array.from(out);
  }

  private commitTranslation(bytes: Uint8Array) {
    if (LINE_END_BYTES[this.options.lineEnd] && bytes.length) this.afterCr = bytes[bytes.length - 1] === 0x0d;
  }

  /** Input bytes waiting for the guest. */
  get waiting(): number {
    return this.queued;
  }

  closeInput() {
    this.inputClosed = true;
    for (const l of this.listeners) l();
  }

  get pendingOutput(): number {
    return this.outLength;
  }

  /** What the guest printed since the last call (the bounded buffer; empty with a sink). */
  takeOutput(): Uint8Array {
    const bytes = this.out.slice(0, this.outLength);
    this.outLength = 0;
    return bytes;
  }

  // ---- The guest's side ---------------------------------------------------------

  write(bytes: Uint8Array | number) {
    if (typeof bytes === 'number' && !this.sink) {
      // One byte (a UART): the common case, without an array.
      this.produced++;
      if (this.outLength >= OUTPUT_LIMIT) {
        this.dropped++;
        return;
      }
      if (this.outLength === this.out.length) this.grow(this.outLength + 1);
      this.out[this.outLength++] = bytes;
      return;
    }
    const data = typeof bytes === 'number' ? Uint8Array.of(bytes) : bytes;
    this.produced += data.length;
    if (this.sink) {
      this.sink(data);
      return;
    }
    const take = Math.min(OUTPUT_LIMIT - this.outLength, data.length);
    this.dropped += data.length - take;
    if (take <= 0) return;
    if (this.outLength + take > this.out.length) this.grow(this.outLength + take);
    this.out.set(data.subarray(0, take), this.outLength);
    this.outLength += take;
  }

  private grow(needed: number) {
    const bigger = new Uint8Array(Math.min(OUTPUT_LIMIT, Math.max(this.out.length * 2, needed)));
    bigger.set(this.out.subarray(0, this.outLength));
    this.out = bigger;
  }

  read(): number {
    if (this.queued === 0) return -1;
    const chunk = this.queue[0];
    const byte = chunk[this.queueHead++];
    if (this.queueHead === chunk.length) {
      this.queue.shift();
      this.queueHead = 0;
    }
    this.queued--;
    this.consumed++;
    return byte;
  }

  /** Up to `max` input bytes: bytes, null at the end of input, undefined while it waits (sim65's read). */
  readBytes(max: number): Uint8Array | null | undefined {
    if (this.queued === 0) return this.inputClosed ? null : undefined;
    const n = Math.min(max, this.queued);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read();
    return out;
  }

  get available(): number {
    return this.queued;
  }

  onInput(listener: () => void) {
    this.listeners.push(listener);
  }

  // ---- Snapshots -------------------------------------------------------------------

  save(): Uint8Array {
    const input = new Uint8Array(this.queued);
    let p = 0;
    this.queue.forEach((chunk, i) => {
      const part = i === 0 ? chunk.subarray(this.queueHead) : chunk;
      input.set(part, p);
      p += part.length;
    });
    return new StateWriter()
      .blob(this.out.subarray(0, this.outLength))
      .blob(input)
      .u53(this.dropped)
      .u53(this.produced)
      .u53(this.consumed)
      .u8((this.inputClosed ? 1 : 0) | (this.afterCr ? 2 : 0))
      .done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'console');
    const out = r.blob();
    const input = r.blob();
    const dropped = r.u53();
    const produced = r.u53();
    const consumed = r.u53();
    const flags = r.u8();
    r.end();
    if (out.length > OUTPUT_LIMIT || input.length > INPUT_LIMIT || flags > 3) throw new Error('console state is out of range');
    this.out = new Uint8Array(Math.max(256, out.length));
    this.out.set(out);
    this.outLength = out.length;
    this.queue = input.length ? [input] : [];
    this.queueHead = 0;
    this.queued = input.length;
    this.dropped = dropped;
    this.produced = produced;
    this.consumed = consumed;
    this.inputClosed = (flags & 1) !== 0;
    this.afterCr = (flags & 2) !== 0;
  }
}

/**
 * Guest output as the host's screen wants it:
 * - 'file' (a pipe, a file): the guest's bytes, except that for a guest whose
 *   lines end in CR alone (crIsNewline) each CR, or CR LF, becomes LF;
 * - 'tty' (a terminal in Node's raw mode, whose driver still turns LF into
 *   CR LF): CR LF and lone LF become LF, a lone CR stays a CR (or is a new
 *   line with crIsNewline);
 * - 'terminal' (a terminal emulator in a page, which takes bytes as they
 *   are): lone LF becomes CR LF, CR LF stays, a lone CR stays (CR LF with
 *   crIsNewline).
 * Keep one `state` per stream: a CR at the end of one chunk pairs with an LF
 * at the start of the next (in 'tty' mode the CR is held until then).
 */
export function hostOutput(bytes: Uint8Array, how: { mode: 'file' | 'tty' | 'terminal'; crIsNewline: boolean }, state: { lastCr: boolean; held?: boolean }): Uint8Array {
  const { mode, crIsNewline } = how;
  if (mode === 'file' && !crIsNewline) return bytes;
  const out: number[] = [];
  const newline = mode === 'terminal' ? [0x0d, 0x0a] : [0x0a];
  for (const b of bytes) {
    if (state.held) {
      state.held = false;
      if (b !== 0x0a) out.push(0x0d); // a lone CR after all
    }
    if (b === 0x0a) {
      if (state.lastCr) {
        if (crIsNewline) {
          // the CR already made the new line
        } else out.push(0x0a);
      } else out.push(...newline);
      state.lastCr = false;
    } else if (b === 0x0d) {
      if (crIsNewline) out.push(...newline);
      else if (mode === 'tty') state.held = true;
      else out.push(0x0d);
      state.lastCr = true;
    } else {
      out.push(b);
      state.lastCr = false;
    }
  }
  return Uint8Array.from(out);
}
