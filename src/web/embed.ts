// Embedding a machine in a web page: a screen, a terminal, the keyboard, and
// run / pause / step / reset at a chosen speed.
//
// How to drive this:
//   import { mountMachine } from 'hyper6502/browser';
//   const em = await mountMachine(document.getElementById('emu'), {
//     spec: { profile: 'easy6502', program: bytes },   // or board, sim65, raw
//     speed: { clockHz: 1_000_000 },                    // real time; or 'max'
//   });
//   em.pause(); em.step(); em.reset(); em.run();
//   em.snapshot() -> Uint8Array;  await em.restore(bytes);
//
// The machine runs on the page's thread, a slice per animation frame (about
// 12 ms at most at max speed), inside an in-thread VmHost so that snapshots,
// restore and the console work as in the hypervisor. A terminal is drawn
// with xterm.js when the page passes its Terminal class (see web/demo.ts),
// else with a plain <pre>.

import { VmHost } from '../hypervisor/vm-host.js';
import type { VmSpec } from '../hypervisor/spec.js';
import { Easy6502Screen, TextScreen } from '../devices/display.js';
import { BOARD } from '../profiles/board.js';
import { Debugger } from '../machine/debugger.js';
import type { Machine, MachineExit } from '../machine/machine.js';

export type Speed = { clockHz: number } | 'max';

/** The part of xterm.js's Terminal the embedding uses. */
export interface TerminalLike {
  open(parent: HTMLElement): void;
  write(data: string | Uint8Array): void;
  onData(listener: (data: string) => void): unknown;
  focus(): void;
  reset(): void;
}

export interface MountOptions {
  spec: VmSpec;
  speed?: Speed;
  /** An xterm.js Terminal (or anything like it) for the guest's console. */
  terminal?: TerminalLike;
  /** Start running at once (default true). */
  autostart?: boolean;
  /** Called after every frame and every step. */
  onUpdate?: (em: EmbeddedMachine) => void;
  /** Called when the guest stops (exit, halt, breakpoint, fault). */
  onStop?: (exit: MachineExit) => void;
}

export class EmbeddedMachine {
  readonly host = new VmHost({ onEvent: (e) => (e.type === 'output' ? this.output(e.bytes) : undefined) });
  private id = '';
  private running = false;
  private frame = 0;
  private lastFrame = 0;
  private emulatedMs = 0;
  private cyclesThisSecond: Array<{ t: number; cycles: number }> = [];
  private readonly canvas?: HTMLCanvasElement;
  private readonly textScreen?: HTMLPreElement;
  private readonly plainTerminal?: HTMLPreElement;
  private lineBuffer = '';
  debugger!: Debugger;

  private constructor(
    readonly element: HTMLElement,
    private spec: VmSpec,
    public speed: Speed,
    private readonly options: MountOptions,
  ) {
    element.classList.add('hyper6502');
    element.innerHTML = '';
    if (spec.profile === 'easy6502') {
      this.canvas = document.createElement('canvas');
      this.canvas.width = Easy6502Screen.WIDTH;
      this.canvas.height = Easy6502Screen.HEIGHT;
      this.canvas.className = 'hyper6502-screen';
      this.canvas.tabIndex = 0;
      this.canvas.addEventListener('keydown', (e) => {
        if (e.key.length === 1) {
          this.host.input(this.id, e.key);
          e.preventDefault();
        }
      });
      element.append(this.canvas);
    }
    if (spec.profile === 'board') {
      this.textScreen = document.createElement('pre');
      this.textScreen.className = 'hyper6502-text-screen';
      element.append(this.textScreen);
    }
    if (spec.profile === 'board' || spec.profile === 'sim65') {
      const box = document.createElement('div');
      box.className = 'hyper6502-terminal';
      element.append(box);
      if (options.terminal) {
        options.terminal.open(box);
        options.terminal.onData((data) => this.typed(data));
      } else {
        this.plainTerminal = document.createElement('pre');
        this.plainTerminal.tabIndex = 0;
        this.plainTerminal.addEventListener('keydown', (e) => {
          if (e.key.length === 1) this.typed(e.key);
          else if (e.key === 'Enter') this.typed('\r');
          else if (e.key === 'Backspace') this.typed('\x7f');
          else return;
          e.preventDefault();
        });
        box.append(this.plainTerminal);
      }
    }
  }

  static async mount(element: HTMLElement, options: MountOptions): Promise<EmbeddedMachine> {
    const em = new EmbeddedMachine(element, options.spec, options.speed ?? 'max', options);
    await em.load(options.spec);
    if (options.autostart !== false) em.run();
    return em;
  }

  get machine(): Machine {
    return this.host.machine(this.id);
  }

  private async load(spec: VmSpec) {
    this.replaceWith(await this.host.create(spec));
  }

  /** Makes VM `id` the embedded machine, dropping the one before. */
  private replaceWith(id: string) {
    const old = this.id;
    this.id = id;
    if (old) this.host.destroy(old);
    this.spec = this.host.spec(id);
    this.debugger = new Debugger(this.machine);
    this.draw();
  }

  // ---- Console --------------------------------------------------------------
  private output(bytes: Uint8Array) {
    const text = new TextDecoder('latin1').decode(bytes).replace(/\r?\n/g, '\r\n');
    if (this.options.terminal) this.options.terminal.write(text);
    else if (this.plainTerminal) this.plainTerminal.textContent += text.replace(/\r/g, '');
  }

  /** Keys typed into the terminal: raw for the board's UART; a line at a time, echoed, for sim65 programs. */
  private typed(data: string) {
    if (this.spec.profile !== 'sim65') return this.host.input(this.id, data);
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        this.output(new TextEncoder().encode('\n'));
        this.host.input(this.id, this.lineBuffer + '\n');
        this.lineBuffer = '';
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.lineBuffer) {
          this.lineBuffer = this.lineBuffer.slice(0, -1);
          if (this.options.terminal) this.options.terminal.write('\b \b');
          else if (this.plainTerminal) this.plainTerminal.textContent = this.plainTerminal.textContent!.slice(0, -1);
        }
      } else if (ch >= ' ') {
        this.lineBuffer += ch;
        this.output(new TextEncoder().encode(ch));
      }
    }
  }

  // ---- Running ----------------------------------------------------------------
  run() {
    if (this.running) return;
    this.running = true;
    this.lastFrame = performance.now();
    this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  pause() {
    this.running = false;
    cancelAnimationFrame(this.frame);
    this.draw();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** One instruction (or one interrupt), paused. */
  step(): MachineExit {
    this.pause();
    const exit = this.host.runUntil(this.id, this.machine.cpu.cycles + 1) ?? this.stoppedExit();
    this.draw();
    return exit;
  }

  private stoppedExit(): MachineExit {
    return { reason: 'budget', pc: this.machine.cpu.pc, cycles: this.machine.cpu.cycles };
  }

  reset() {
    this.host.reset(this.id);
    this.draw();
  }

  setSpeed(speed: Speed) {
    this.speed = speed;
  }

  /** Emulated MHz over the last second of running. */
  get mhz(): number {
    const list = this.cyclesThisSecond;
    if (list.length < 2) return 0;
    const first = list[0];
    const last = list[list.length - 1];
    return last.t > first.t ? (last.cycles - first.cycles) / (last.t - first.t) / 1000 : 0;
  }

  private tick(now: number) {
    if (!this.running) return;
    const elapsed = Math.min(now - this.lastFrame, 100);
    this.lastFrame = now;
    const cpu = this.machine.cpu;
    let exit: MachineExit | null = null;
    if (this.speed === 'max') {
      const until = performance.now() + 12;
      while (performance.now() < until) {
        exit = this.host.runUntil(this.id, cpu.cycles + 200_000);
        if (exit && exit.reason !== 'budget') break;
      }
    } else {
      exit = this.host.runUntil(this.id, cpu.cycles + Math.max(1, Math.round((elapsed / 1000) * this.speed.clockHz)));
    }
    this.emulatedMs += elapsed;
    this.cyclesThisSecond.push({ t: now, cycles: cpu.cycles });
    while (this.cyclesThisSecond.length > 2 && now - this.cyclesThisSecond[0].t > 1000) this.cyclesThisSecond.shift();
    this.draw();
    if (exit && exit.reason !== 'budget' && exit.reason !== 'wait') {
      this.running = false;
      this.options.onStop?.(exit);
      return;
    }
    this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  // ---- Drawing ----------------------------------------------------------------
  private image?: ImageData;

  draw() {
    const ram = this.machine.cpu.ram;
    if (this.canvas) {
      const ctx = this.canvas.getContext('2d')!;
      this.image ??= ctx.createImageData(32, 32);
      new Easy6502Screen(ram).render(this.image.data);
      ctx.putImageData(this.image, 0, 0);
    }
    if (this.textScreen) this.textScreen.textContent = new TextScreen(ram, { address: BOARD.TEXT_SCREEN, columns: 40, rows: 25 }).lines().join('\n');
    this.options.onUpdate?.(this);
  }

  focus() {
    if (this.canvas) this.canvas.focus();
    else if (this.options.terminal) this.options.terminal.focus();
    else this.plainTerminal?.focus();
  }

  // ---- Snapshots -----------------------------------------------------------------
  /** The machine's state as bytes (it pauses first). */
  snapshot(): Uint8Array {
    const wasRunning = this.running;
    this.pause();
    const bytes = this.host.snapshot(this.id);
    if (wasRunning) this.run();
    return bytes;
  }

  /** Replaces the machine with the one in a snapshot; throws a SnapshotError (and changes nothing) when it is rejected. */
  async restore(bytes: Uint8Array) {
    const wasRunning = this.running;
    this.pause();
    this.replaceWith(await this.host.restore([bytes])); // restore throws before anything changes
    if (wasRunning) this.run();
  }

  destroy() {
    this.pause();
    this.host.destroy(this.id);
    this.element.innerHTML = '';
  }
}

export function mountMachine(element: HTMLElement, options: MountOptions): Promise<EmbeddedMachine> {
  return EmbeddedMachine.mount(element, options);
}
