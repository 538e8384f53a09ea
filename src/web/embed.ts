// Embedding a machine in a web page: its views (a screen, an LCD, a
// terminal), the keyboard, and run / pause / step / reset at a chosen speed.
//
// How to drive this:
//   import { mountMachine } from 'hyper6502/browser';
//   const em = await mountMachine(document.getElementById('emu'), {
//     machine: 'easy6502', program: bytes,       // any VM spec: a machine by name or described in full
//     speed: { clockHz: 1_000_000 },             // real time; or 'max'
//   });
//   em.pause(); em.step(); em.reset(); em.run();
//   em.snapshot() -> Uint8Array;  await em.restore(bytes);
// Debugged with the program's debug info, the machine runs in a DebugSession
// (src/debug/session.ts) that records its history (web/demo.ts makes one):
//   mountMachine(element, { spec, debugSession: (machine, output) => new DebugSession(machine, { symbols, output }) });
//   em.session.addBreakpoint('hello.c:18');
//   em.debugStep('line');  em.debugStep('back');   // a Stop, or null while it goes on (then onDebugStop)
//
// What the page shows comes from the machine's description (`views`): the
// easy6502 32x32 screen on a canvas, a text screen, an HD44780 LCD, a
// terminal for the console (xterm.js when the page passes its Terminal class,
// see web/demo.ts, else a plain <pre>). The machine runs on the page's
// thread, a slice per animation frame (about 12 ms at most at max speed),
// inside an in-thread VmHost so that snapshots, restore and the console work
// as in the hypervisor. A guest waiting for input costs nothing: its frames
// stop at once (`idle` is then true), at max speed and in real time alike (a
// paced guest's clock catches up, skipping the wait, when the next key comes).
// The views come with a default look (the screen scaled up, crisp) that any
// CSS of the page overrides; on a touch screen a tap on a view opens the
// phone's keyboard (a hidden text field takes what is typed). xterm.js has a
// field of its own for that. A machine debugged with its debug info never
// takes the idle shortcut (its history replays every instruction): a guest
// spinning at its prompt runs, and one that waits on a read sleeps.

import { VmHost } from '../hypervisor/vm-host.js';
import type { VmSpec, ViewSpec, MachineSpec } from '../machine/description.js';
import { hostOutput } from '../machine/console.js';
import { parseNumberText } from '../devices/device.js';
import { Easy6502Screen, TextScreen } from '../devices/display.js';
import { Hd44780 } from '../devices/hd44780.js';
import { Debugger } from '../machine/debugger.js';
import type { DebugSession, Stop } from '../debug/session.js';
import type { Machine, MachineExit } from '../machine/machine.js';
import { loadCoreModule } from '../core/wasm.js';
import type { CoreSource } from '../platform/node.js';

export type Speed = { clockHz: number } | 'max';

/** What a DebugSession steps by: 'instruction', 'line', 'over', 'out', 'back', 'backInstruction', 'reverseContinue', 'continue'... */
export type DebugStepKind = Parameters<DebugSession['step']>[0];

/** The part of xterm.js's Terminal the embedding uses. */
export interface TerminalLike {
  open(parent: HTMLElement): void;
  write(data: string | Uint8Array): void;
  onData(listener: (data: string) => void): unknown;
  focus(): void;
  reset(): void;
}

export interface MountOptions extends VmSpec {
  /** The VM spec as one object (instead of its fields here). */
  spec?: VmSpec;
  speed?: Speed;
  /** An xterm.js Terminal (or anything like it) for the guest's console. */
  terminal?: TerminalLike;
  /** Start running at once (default true). */
  autostart?: boolean;
  /** Called after every frame and every step. */
  onUpdate?: (em: EmbeddedMachine) => void;
  /** Called when the guest stops (exit, halt, breakpoint, fault). */
  onStop?: (exit: MachineExit) => void;
  /**
   * Debugging with the program's debug info: makes the DebugSession of each
   * machine mounted or restored (`em.session`: breakpoints by source line,
   * steps by line, backwards too), which records the machine's history as it
   * runs; `output` takes the guest's output (once, also when going back and
   * forward again replays it). The session's code is the page's, not in this
   * bundle.
   */
  debugSession?: (machine: Machine, output: (bytes: Uint8Array) => void) => DebugSession;
  /** Called when a step of the session (em.debugStep) that went on over frames stops. */
  onDebugStop?: (stop: Stop) => void;
  /** The Wasm core: its URL, its bytes or the module (default: hyper6502.wasm next to the bundle). */
  wasm?: CoreSource;
  /** Run the guest's hot code compiled to WebAssembly (src/jit): true, or false (the default); a restored snapshot runs so too. */
  jit?: boolean;
}

const UI_OPTIONS = ['spec', 'speed', 'terminal', 'autostart', 'onUpdate', 'onStop', 'wasm', 'debugSession', 'onDebugStop', 'jit'];

function specOf(options: MountOptions): VmSpec {
  if (options.spec) return options.spec;
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!UI_OPTIONS.includes(k)) spec[k] = v;
  return spec as VmSpec;
}

const num = (v: number | string) => (typeof v === 'number' ? v : parseNumberText(v));

/**
 * How the views look when the page says nothing (:where() weighs nothing, so
 * any rule of the page wins): the 32x32 screen scaled up crisp to the width
 * there is, a dark terminal, and the hidden input phones type into.
 */
const DEFAULT_STYLE = `
:where(.hyper6502) { max-width: 100%; }
:where(.hyper6502-screen) { display: block; width: 320px; max-width: 100%; height: auto; aspect-ratio: 1; image-rendering: pixelated; background: #000; }
:where(.hyper6502-terminal) { max-width: 100%; overflow-x: auto; }
:where(.hyper6502-terminal pre) { margin: 0; min-height: 12em; padding: 0.5em; background: #111; color: #ddd; white-space: pre-wrap; overflow-wrap: anywhere; }
:where(.hyper6502-text-screen, .hyper6502-lcd) { font-family: ui-monospace, monospace; white-space: pre; }
:where(.hyper6502-view) { position: relative; }
.hyper6502-touch-input { position: absolute; left: 0; top: 0; width: 1px; height: 1px; opacity: 0; border: 0; padding: 0; margin: 0; resize: none; font-size: 16px; }
`;

function addDefaultStyle(doc: Document) {
  if (doc.querySelector('style[data-hyper6502]')) return;
  const style = doc.createElement('style');
  style.dataset.hyper6502 = '';
  style.textContent = DEFAULT_STYLE;
  doc.head.prepend(style); // first, so that the page's own rules come after it
}

/** A phone or a tablet: its keyboard shows only for a text field, so views get a hidden one (see touchInput). */
function isTouchScreen(): boolean {
  return navigator.maxTouchPoints > 0 || matchMedia('(pointer: coarse)').matches;
}

/**
 * A hidden text field over `view`: a tap on the view focuses it, the phone
 * shows its keyboard, and what is typed there goes to `send` (Enter as CR,
 * Backspace as DEL), as keys on a desktop do.
 */
function touchInput(view: HTMLElement, send: (keys: string) => void): HTMLTextAreaElement {
  const input = document.createElement('textarea');
  input.className = 'hyper6502-touch-input';
  input.setAttribute('aria-label', 'keyboard for the machine');
  for (const [k, v] of Object.entries({ autocapitalize: 'off', autocomplete: 'off', autocorrect: 'off', spellcheck: 'false', enterkeyhint: 'send' })) input.setAttribute(k, v);
  input.addEventListener('keydown', (e) => {
    const key = e.key === 'Enter' ? '\r' : e.key === 'Backspace' ? '\x7f' : null;
    if (key) {
      send(key);
      e.preventDefault();
    }
  });
  input.addEventListener('input', (e) => {
    const ev = e as InputEvent;
    if (ev.inputType === 'insertLineBreak' || ev.inputType === 'insertParagraph') send('\r');
    else if (ev.inputType.startsWith('delete')) send('\x7f');
    else if (ev.data) send(ev.data);
    input.value = '';
  });
  view.classList.add('hyper6502-view');
  view.addEventListener('click', () => input.focus({ preventScroll: true }));
  view.append(input);
  return input;
}

export class EmbeddedMachine {
  readonly host = new VmHost({ onEvent: (e) => (e.type === 'output' ? this.output(e.bytes) : undefined) });
  private id = '';
  private running = false;
  private frame = 0;
  private lastFrame = 0;
  private cyclesThisSecond: Array<{ t: number; cycles: number }> = [];
  private canvas?: HTMLCanvasElement;
  private textScreens: Array<{ pre: HTMLPreElement; view: Extract<ViewSpec, { kind: 'text-screen' }> }> = [];
  private lcds: Array<{ pre: HTMLPreElement; device: string }> = [];
  private screenAddress = Easy6502Screen.ADDRESS;
  private plainTerminal?: HTMLPreElement;
  /** The hidden fields phones type into (touch screens only). */
  private touchInputs: HTMLTextAreaElement[] = [];
  private lineBuffer = '';
  private outState = { lastCr: false };
  private lineMode = false;
  private crIsNewline = false;
  /** The guest waited for input, idle, at the end of the last frame. */
  idle = false;
  debugger!: Debugger;
  /** The debugging session, when the program came with its debug info (MountOptions.debugSession). */
  session?: DebugSession;
  /** A step of the session goes on, a slice a frame (a step over a long call, out of a function). */
  private stepping = false;

  private constructor(
    readonly element: HTMLElement,
    public speed: Speed,
    private readonly options: MountOptions,
  ) {}

  static async mount(element: HTMLElement, options: MountOptions): Promise<EmbeddedMachine> {
    const em = new EmbeddedMachine(element, options.speed ?? 'max', options);
    if (options.wasm !== undefined) await loadCoreModule(options.wasm);
    await em.load(specOf(options));
    if (options.autostart !== false) em.run();
    return em;
  }

  get machine(): Machine {
    return this.host.machine(this.id);
  }

  /** The machine's closed description. */
  get description(): MachineSpec {
    return this.machine.spec!;
  }

  private async load(spec: VmSpec) {
    this.replaceWith(await this.host.create(spec, { jit: this.options.jit ?? false }));
  }

  /** Makes VM `id` the embedded machine, dropping the one before. */
  private replaceWith(id: string) {
    const old = this.id;
    this.id = id;
    if (old) this.host.destroy(old);
    const before = this.session;
    this.stepping = false;
    this.session = this.options.debugSession?.(this.machine, (bytes) => this.output(bytes));
    // A restored machine keeps the breakpoints.
    for (const b of before?.breakpointList() ?? []) this.session!.addBreakpoint(b.source ? `${b.source.file}:${b.source.line}` : b.addresses[0]);
    this.debugger = this.session?.debugger ?? new Debugger(this.machine);
    this.layout();
    this.draw();
  }

  /** The views the machine's description asks for (the same ones are kept across a restore). */
  private layout() {
    const d = this.description;
    const key = JSON.stringify(d.views ?? []) + (d.console ? 'console' : '');
    if (this.element.dataset.hyper6502Views === key) return;
    this.element.dataset.hyper6502Views = key;
    const element = this.element;
    addDefaultStyle(element.ownerDocument);
    element.classList.add('hyper6502');
    element.innerHTML = '';
    const touch = isTouchScreen();
    this.touchInputs = [];
    this.canvas = undefined;
    this.textScreens = [];
    this.lcds = [];
    this.plainTerminal = undefined;
    this.lineMode = d.devices?.some((x) => x.type === 'sim65') ?? false;
    this.crIsNewline = d.console?.crIsNewline ?? false;
    const views = d.views ?? (d.console ? [{ kind: 'terminal' as const }] : []);
    for (const view of views) {
      if (view.kind === 'easy6502-screen') {
        this.screenAddress = num(view.address);
        const canvas = (this.canvas = document.createElement('canvas'));
        canvas.width = Easy6502Screen.WIDTH;
        canvas.height = Easy6502Screen.HEIGHT;
        canvas.className = 'hyper6502-screen';
        canvas.tabIndex = 0;
        canvas.addEventListener('keydown', (e) => {
          const key = e.key.length === 1 ? e.key : e.key === 'Enter' ? '\r' : null;
          if (key) {
            this.type(key);
            e.preventDefault();
          }
        });
        if (touch) {
          const box = document.createElement('div');
          box.append(canvas);
          this.touchInputs.push(touchInput(box, (keys) => this.type(keys)));
          element.append(box);
        } else element.append(canvas);
      } else if (view.kind === 'text-screen') {
        const pre = document.createElement('pre');
        pre.className = 'hyper6502-text-screen';
        element.append(pre);
        this.textScreens.push({ pre, view });
      } else if (view.kind === 'lcd') {
        const pre = document.createElement('pre');
        pre.className = 'hyper6502-lcd';
        element.append(pre);
        this.lcds.push({ pre, device: view.device });
      } else if (view.kind === 'terminal') {
        const box = document.createElement('div');
        box.className = 'hyper6502-terminal';
        element.append(box);
        if (this.options.terminal) {
          this.options.terminal.open(box);
          this.options.terminal.onData((data) => this.typed(data));
        } else {
          const pre = (this.plainTerminal = document.createElement('pre'));
          pre.tabIndex = 0;
          pre.addEventListener('keydown', (e) => {
            if (e.key.length === 1) this.typed(e.key);
            else if (e.key === 'Enter') this.typed('\r');
            else if (e.key === 'Backspace') this.typed('\x7f');
            else return;
            e.preventDefault();
          });
          box.append(pre);
          if (touch) this.touchInputs.push(touchInput(box, (keys) => this.typed(keys)));
        }
      }
    }
  }

  // ---- Console --------------------------------------------------------------
  private output(bytes: Uint8Array) {
    if (this.options.terminal) this.options.terminal.write(hostOutput(bytes, { mode: 'terminal', crIsNewline: this.crIsNewline }, this.outState));
    else if (this.plainTerminal) {
      const text = new TextDecoder('latin1').decode(hostOutput(bytes, { mode: 'file', crIsNewline: this.crIsNewline }, this.outState));
      this.plainTerminal.textContent += text.replace(/\r\n?/g, '\n');
    }
  }

  /** Gives the guest keys (a string or bytes), as if typed. */
  type(data: string | Uint8Array) {
    if (this.running && this.idle) this.wake();
    if (this.session) this.session.input(data); // the history records where it came
    else this.host.input(this.id, data);
    if (this.running && this.idle) this.schedule();
  }

  /**
   * A paced guest that slept idle first lets the time it waited pass (the
   * idle loop's time skipped, not run), so that it sees the key at the cycle
   * its clock says, as if its frames had gone on.
   */
  private wake() {
    if (this.speed === 'max' || this.session) return;
    const now = performance.now();
    const cycles = Math.round(((now - this.lastFrame) / 1000) * this.speed.clockHz);
    if (cycles > 0) this.host.runUntil(this.id, this.machine.cpu.cycles + cycles, 'advance');
    this.lastFrame = now;
  }

  /** Keys typed into the terminal: raw for a UART or a keyboard port; a line at a time, echoed, for sim65 programs. */
  private typed(data: string) {
    if (!this.lineMode) return this.type(data);
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        this.output(new TextEncoder().encode('\n'));
        this.type(this.lineBuffer + '\n');
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
    // Going on from a breakpoint executes the instruction it stopped before.
    const cpu = this.machine.cpu;
    if (this.machine.breakpointList.includes(cpu.pc)) cpu.skipBreakpointOnce();
    this.running = true;
    this.lastFrame = performance.now();
    this.schedule();
  }

  private schedule() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  pause() {
    this.running = false;
    cancelAnimationFrame(this.frame);
    if (this.stepping) {
      this.stepping = false;
      this.session!.pause();
      return this.stepped(this.session!.resume());
    }
    this.draw();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** One instruction (or one interrupt), paused. */
  step(): MachineExit {
    if (this.session) {
      this.debugStep('instruction');
      return this.stoppedExit();
    }
    this.pause();
    const exit = this.host.runUntil(this.id, this.machine.cpu.cycles + 1, 'advance') ?? this.stoppedExit();
    this.draw();
    return exit;
  }

  /**
   * A step of the debugging session, from a pause: its Stop; or null when it
   * goes on over the next frames (a step over a long call, or one that waits
   * for input), ended by pause() or by itself, then given to onDebugStop.
   */
  debugStep(kind: DebugStepKind): Stop | null {
    if (!this.session) throw new Error('this machine has no debug info to step by: mount it with `debugSession`');
    this.pause();
    const stop = this.session.step(kind);
    if (stop) {
      this.draw();
      return stop;
    }
    this.stepping = this.running = true;
    this.idle = false;
    this.schedule();
    return null;
  }

  /** The end of a step that went on over frames (or a slice more of it). */
  private stepped(stop: Stop | null) {
    if (stop) {
      this.stepping = this.running = false;
      this.idle = false;
      this.draw();
      this.options.onDebugStop?.(stop);
      return;
    }
    // Waiting for input: asleep until a key comes (see type).
    this.idle = this.session!.waitingForInput;
    this.draw();
    if (!this.idle) this.schedule();
  }

  private stoppedExit(): MachineExit {
    return { reason: 'budget', pc: this.machine.cpu.pc, cycles: this.machine.cpu.cycles };
  }

  /** RESET, as the machine's reset line does: its program stays in memory and starts again from the reset vector. */
  reset() {
    this.host.reset(this.id);
    this.session?.edited();
    this.idle = false;
    if (this.running) this.schedule();
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
    if (this.stepping) return this.stepped(this.session!.resume());
    const cpu = this.machine.cpu;
    let exit: MachineExit | null = null;
    if (this.speed === 'max') {
      const until = performance.now() + 12;
      while (performance.now() < until) {
        exit = this.advance(200_000, 'stop');
        if (exit && exit.reason !== 'budget') break;
      }
    } else {
      exit = this.advance(Math.max(1, Math.round((elapsed / 1000) * this.speed.clockHz)), 'advance');
    }
    this.idle = exit?.reason === 'idle' || exit?.reason === 'wait';
    this.cyclesThisSecond.push({ t: now, cycles: cpu.cycles });
    while (this.cyclesThisSecond.length > 2 && now - this.cyclesThisSecond[0].t > 1000) this.cyclesThisSecond.shift();
    this.draw();
    if (exit && !['budget', 'wait', 'idle'].includes(exit.reason)) {
      this.running = false;
      this.options.onStop?.(exit);
      return;
    }
    // A guest waiting for input, with no device event due, sleeps until a key comes (see type and wake).
    if (this.idle) return;
    this.schedule();
  }

  /**
   * Runs `budget` cycles: in the host (where a guest idle at its prompt lets
   * its time pass without running, with 'advance'), or recorded in the
   * session's history.
   */
  private advance(budget: number, idle: 'stop' | 'advance'): MachineExit | null {
    const session = this.session;
    if (!session) return this.host.runUntil(this.id, this.machine.cpu.cycles + budget, idle);
    const exit = session.history!.run(budget);
    session.flushOutput();
    return exit;
  }

  // ---- Drawing ----------------------------------------------------------------
  private image?: ImageData;

  draw() {
    const ram = this.machine.cpu.ram;
    if (this.canvas) {
      const ctx = this.canvas.getContext('2d')!;
      this.image ??= ctx.createImageData(32, 32);
      new Easy6502Screen(ram, this.screenAddress).render(this.image.data);
      ctx.putImageData(this.image, 0, 0);
    }
    for (const { pre, view } of this.textScreens) {
      pre.textContent = new TextScreen(ram, { address: num(view.address), columns: view.columns, rows: view.rows }).lines().join('\n');
    }
    for (const { pre, device } of this.lcds) {
      const lcd = this.machine.devices.find((d) => d.name === device);
      if (lcd instanceof Hd44780) pre.textContent = lcd.lines().join('\n');
    }
    this.options.onUpdate?.(this);
  }

  focus() {
    if (this.touchInputs.length) this.touchInputs[0].focus({ preventScroll: true });
    else if (this.canvas) this.canvas.focus();
    else if (this.options.terminal) this.options.terminal.focus();
    else this.plainTerminal?.focus();
  }

  // ---- Snapshots -----------------------------------------------------------------
  /** The machine's state as bytes (taken between two frames, where the VM rests: a guest asleep idle stays asleep). */
  snapshot(): Uint8Array {
    // A snapshot clears the dirty-page bits, which hold the pages a recorded history's next checkpoint keeps.
    const dirty = this.session && this.machine.cpu.dirtyPages.slice();
    const bytes = this.host.snapshot(this.id);
    if (dirty) this.machine.cpu.dirtyPages.set(dirty);
    return bytes;
  }

  /** Replaces the machine with the one in a snapshot; throws a SnapshotError (and changes nothing) when it is rejected. */
  async restore(bytes: Uint8Array) {
    const wasRunning = this.running;
    this.pause();
    this.replaceWith(await this.host.restore([bytes], { jit: this.options.jit ?? false })); // restore throws before anything changes
    if (wasRunning) this.run();
  }

  destroy() {
    this.pause();
    this.host.destroy(this.id);
    this.element.innerHTML = '';
    delete this.element.dataset.hyper6502Views;
  }
}

export function mountMachine(element: HTMLElement, options: MountOptions): Promise<EmbeddedMachine> {
  return EmbeddedMachine.mount(element, options);
}
