// A machine-language monitor: py65mon's commands, syntax and output formats
// (`mem 0600:0601` prints `0600:  a9  42`; every command ends with the
// register line under `PC  AC XR YR SP NV-BDIZC`), VICE's most used ones
// (break and watch with conditions, until, next, trace on/off, history,
// backtrace), and stepping backwards (back, rcontinue).
//
// How to drive this:
//   const mon = new Monitor(session, { write: (t) => process.stdout.write(t) });
//   await mon.run('mem 0600:0601');       // writes "0600:  a9  42\n\n" and the registers
//   mon.execute('r a=42');                // the same, synchronously: the output as a string
// Numbers are hex by default (radix), $hex, +decimal, %binary; symbols and
// C function names work wherever an address does. A run (goto, continue,
// return, until) goes in slices; `interrupt()` stops it. Errors are one line
// and the session goes on.

import { disassemble, type Instruction } from '../isa/disasm.js';
import { assemble } from '../asm/assembler.js';
import type { DebugSession, Stop } from './session.js';

export interface MonitorOptions {
  /** Where output goes as it is made (guest output included); default: collected for `execute`. */
  write?: (text: string) => void;
  radix?: number;
  /** File access for load and save (Node gives fs; none in a page). */
  readFile?: (path: string) => Uint8Array;
  writeFile?: (path: string, bytes: Uint8Array) => void;
  /** Lets a long run give the event loop a turn between slices. */
  yieldTurn?: () => Promise<void>;
  /** Most instructions a goto/return/until runs (default 100 million). */
  maxInstructions?: number;
}

interface Command {
  names: string[];
  usage: string;
  help: string;
  run: (args: string) => void | Promise<void>;
}

const SLICE = 10_000;

export class Monitor {
  private out: string[] = [];
  private readonly write: (text: string) => void;
  radix: number;
  private width = 78;
  private tracing = false;
  private interrupted = false;
  private readonly commands: Command[];
  /** py65mon numbers its breakpoints from 0 in the order they were added; the session's ids behind them. */
  private readonly numbered: Array<number | null> = [];
  done = false;

  constructor(readonly session: DebugSession, private readonly options: MonitorOptions = {}) {
    this.write = options.write ?? ((t) => this.out.push(t));
    this.radix = options.radix ?? 16;
    this.commands = this.table();
  }

  /** The prompt, as py65mon's. */
  get prompt(): string {
    return '.';
  }

  /** Runs one command line and returns what it printed (for callers without `write`). */
  execute(line: string): string {
    const had = this.out.length;
    void this.runSync(line);
    return this.out.splice(had).join('');
  }

  /** Stops a run in progress at its next slice. */
  interrupt() {
    this.interrupted = true;
  }

  /** Runs one command line; output goes to `write` as it comes. */
  async run(line: string): Promise<void> {
    await this.dispatch(line, true);
  }

  /** Runs one command line synchronously (a run goes to its end). */

  private runSync(line: string) {
    return this.dispatch(line, false);
  }

  private dispatch(raw: string, async: boolean): Promise<void> | void {
    this.asyncRun = async;
    const line = stripComment(raw).trim().replace(/^\.+/, '');
    if (!line) return;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    let name = m[1];
    let args = m[2];
    if (name.startsWith('~') && name.length > 1) {
      args = name.slice(1) + ' ' + args;
      name = '~';
    }
    const cmd = this.commands.find((c) => c.names.includes(name.toLowerCase()));
    const failed = (err: unknown) => this.print(`Error: ${(err as Error).message}`);
    const end = () => {
      if (!this.done) this.print('\n' + this.registerLines());
    };
    let result: void | Promise<void> = undefined;
    try {
      if (!cmd) throw new Error(`unknown command "${name}" (help lists them)`);
      result = cmd.run(args.trim());
    } catch (err) {
      failed(err);
    }
    if (result) return result.catch(failed).then(end);
    end();
  }

  /** Calls `slice` until it says it is done: at once, or (run) with a turn of the event loop between calls. */
  private loop(slice: () => boolean): void | Promise<void> {
    if (!this.asyncRun) {
      while (!slice());
      return;
    }
    return (async () => {
      while (!slice()) await (this.options.yieldTurn?.() ?? new Promise<void>((r) => setTimeout(r, this.session.waitingForInput ? 20 : 0)));
    })();
  }

  private asyncRun = false;

  private print(text: string) {
    this.write(text + '\n');
  }

  // ---- Formats ----------------------------------------------------------------------------

  registerLines(): string {
    const c = this.session.machine.cpu;
    const name = c.model === '65c02' ? '65C02' : '6502';
    const indent = ' '.repeat(name.length + 2);
    return `${indent}  PC  AC XR YR SP NV-BDIZC\n${name}: ${h4(c.pc)} ${h2(c.a)} ${h2(c.x)} ${h2(c.y)} ${h2(c.s)} ${c.p.toString(2).padStart(8, '0')}`;
  }

  private instruction(address: number): Instruction {
    return disassemble((a) => this.session.machine.peekBus(a), address, this.session.machine.cpu.model);
  }

  /** "$0600  a9 42     LDA #$42", with the target's label, as py65mon's disassembly. */
  private formatInstruction(ins: Instruction): string {
    const syms = this.session.symbols;
    let text = ins.text.replace(/\$([0-9A-F]+)/g, (_, d: string) => '$' + d.toLowerCase());
    const target = ins.target ?? (/\$([0-9a-f]{4})/.exec(text) ? parseInt(/\$([0-9a-f]{4})/.exec(text)![1], 16) : undefined);
    const label = target !== undefined ? syms.label(target) : undefined;
    if (label && target !== undefined) text = text.replace(`$${h4(target)}`, label);
    const dump = ins.bytes.map((b) => h2(b) + ' ').join('');
    return `$${h4(ins.address)}  ${dump.padEnd(10)}${text}`;
  }

  /** A source line and label before the instructions that start them. */
  private annotate(address: number): string[] {
    const out: string[] = [];
    const syms = this.session.symbols;
    const line = syms.isLineStart(address) ? syms.lineAt(address) : undefined;
    if (line) out.push(`; ${line.file}:${line.line}`);
    const label = syms.label(address);
    if (label) out.push(`${label}:`);
    return out;
  }

  private disassembleRange(start: number, end: number) {
    let a = start;
    const wrap = start > end;
    let passed = false;
    for (let n = 0; n < 0x10000 && (wrap ? !passed || a <= end : a <= end); n++) {
      for (const note of this.annotate(a)) this.print(note);
      const ins = this.instruction(a);
      this.print(this.formatInstruction(ins));
      const next = a + ins.bytes.length;
      if (next > 0xffff) passed = true;
      a = next & 0xffff;
      if (!wrap && next > 0xffff) break;
    }
  }

  // ---- Parsing ----------------------------------------------------------------------------

  private number(text: string): number {
    if (!text) throw new Error('an address or a number is missing');
    return this.session.resolve(text, this.radix);
  }

  private value(text: string): number {
    return this.session.evaluate(text, this.radix);
  }

  /** "start:end", "start end" or "start" (one address). */
  private range(args: string): [number, number] {
    const parts = args.includes(':') ? args.split(':') : args.split(/\s+/);
    if (parts.length > 2 || !parts[0]) throw new Error(`"${args}" is not a range (write start:end)`);
    const start = this.number(parts[0].trim());
    const end = parts[1] !== undefined ? this.number(parts[1].trim()) : start;
    return [start, end];
  }

  private edited() {
    this.session.edited();
  }

  // ---- Running ----------------------------------------------------------------------------

  /** Runs instruction by instruction until `stop` says so (py65mon's goto and return), a breakpoint, or the end. */
  private runStepwise(stop: (opcode: number) => boolean, what: string): void | Promise<void> {
    const s = this.session;
    const cpu = s.machine.cpu;
    this.interrupted = false;
    const max = this.options.maxInstructions ?? 100_000_000;
    const start = cpu.instructions;
    let first = true;
    return this.loop(() => {
      for (let i = 0; i < SLICE; i++) {
        if (!first && stop(s.machine.peekBus(cpu.pc))) return true;
        const result = this.stepOnce(first);
        first = false;
        if (result) {
          this.report(result);
          return true;
        }
      }
      if (cpu.instructions - start >= max) {
        this.print(`Stopped after ${max} instructions (${what})`);
        return true;
      }
      if (this.interrupted || (s.waitingForInput && !this.asyncRun)) {
        this.print(this.interrupted ? 'Interrupt' : 'Stopped: the guest waits for input (input "text" types some)');
        return true;
      }
      return false;
    });
  }

  /** One instruction in a run: a Stop to end the run (breakpoint at the new PC, exit). */
  private stepOnce(first: boolean): Stop | null {
    const s = this.session;
    if (this.tracing) this.print(this.formatInstruction(this.instruction(s.machine.cpu.pc)));
    if (!first) {
      const hits = s.breakpointList().filter((b) => b.addresses.includes(s.machine.cpu.pc) && !b.condition || (b.addresses.includes(s.machine.cpu.pc) && s.evaluate(b.condition!)));
      if (hits.length) return { reason: 'breakpoint', description: `breakpoint at ${s.where()}`, hit: hits.map((b) => b.id) };
    }
    const stop = s.step('instruction');
    return stop && stop.reason !== 'step' ? stop : null;
  }

  private report(stop: Stop) {
    if (stop.reason === 'breakpoint' || stop.reason === 'function breakpoint') {
      const n = stop.hit?.map((id) => this.numbered.indexOf(id)).filter((i) => i >= 0) ?? [];
      if (n.length) this.print(`Breakpoint ${n[0]} reached.`);
      else this.print(`Breakpoint reached: ${this.session.where()}`);
    } else if (stop.reason === 'data breakpoint') this.print(stop.description.replace(/^watchpoint/, 'Watchpoint'));
    else if (stop.reason === 'exit') this.print(`Program exited with status ${stop.exitCode}`);
    else if (stop.reason === 'exception') this.print(`Stopped: ${stop.description}`);
    else if (stop.reason === 'pause') this.print(`Stopped: ${stop.description}`);
  }

  /** A fast run (breakpoints by the core) until a stop: continue and until. */
  private runFast(kind: 'continue' | 'over'): void | Promise<void> {
    const s = this.session;
    this.interrupted = false;
    let stop = s.step(kind === 'continue' ? 'continue' : 'overInstruction');
    return this.loop(() => {
      if (!stop) {
        if (this.interrupted || (s.waitingForInput && !this.asyncRun)) s.pause();
        stop = s.resume();
      }
      if (!stop) return false;
      if (stop.reason === 'pause' && s.waitingForInput) this.print('Stopped: the guest waits for input (input "text" types some)');
      else if (stop.reason !== 'step') this.report(stop);
      return true;
    });
  }

  // ---- The commands -----------------------------------------------------------------------

  private table(): Command[] {
    const s = this.session;
    const cpu = () => s.machine.cpu;
    const c = (names: string[], usage: string, help: string, run: Command['run']): Command => ({ names, usage, help, run });
    return [
      c(['registers', 'r'], 'registers [<name>=<value> [, <name>=<value>]*]', 'Assign respective registers (pc sp a x y p). With no parameters, display register values.', (args) => {
        if (!args) return;
        const pairs = [...args.matchAll(/([^=,\s]+)\s*=\s*([^=,\s]+)/g)];
        if (!pairs.length) throw new Error(`syntax: ${args}`);
        for (const [, reg, text] of pairs) {
          const name = reg.toLowerCase();
          if (!['pc', 'sp', 'a', 'x', 'y', 'p'].includes(name)) throw new Error(`invalid register: ${reg}`);
          const v = this.value(text);
          const max = name === 'pc' ? 0xffff : 0xff;
          if (v < 0 || v > max) throw new Error(`overflow: ${text} too wide for register ${reg}`);
          s.debugger.setRegisters({ [name === 'sp' ? 's' : name]: v });
        }
        this.edited();
      }),
      c(['mem', 'm'], 'mem <address_range>', 'Display the contents of memory. Range is specified like "<start:end>".', (args) => {
        const [start, end] = this.range(args);
        let line = h4(start) + ':';
        for (let a = start; a <= end; a++) {
          const more = '  ' + h2(s.machine.peekBus(a));
          if (line.length + more.length > this.width) {
            this.print(line);
            line = h4(a) + ':';
          }
          line += more;
        }
        this.print(line);
      }),
      c(['fill', 'f', '>'], 'fill <address_range> <data_list>', 'Fill memory in the address range with the data in <data_list>, repeated to fill the range.', (args) => {
        const [range, ...data] = args.split(/\s+/);
        if (!data.length) throw new Error('fill needs a range and data');
        let [start, end] = this.range(range);
        const bytes = data.map((d) => this.value(d) & 0xff);
        if (start === end) end = Math.min(0xffff, start + bytes.length - 1);
        for (let a = start, i = 0; a <= end; a++, i = (i + 1) % bytes.length) s.machine.cpu.poke(a, bytes[i]);
        this.edited();
        this.print(`Wrote +${end - start + 1} bytes from $${h4(start)} to $${h4(end)}`);
      }),
      c(['assemble', 'a'], 'assemble <address> <statement>', 'Assemble a statement at the address.', (args) => {
        const m = /^(\S+)\s+(.+)$/.exec(args);
        if (!m) throw new Error('assemble needs an address and a statement');
        const at = this.number(m[1]);
        const r = assemble(` .org $${h4(at)}\n ${m[2]}\n`, { cpu: cpu().model });
        if (!r.ok) throw new Error(`syntax error: ${m[2]} (${r.errors[0].message})`);
        s.debugger.writeMemory(at, r.bytes);
        this.edited();
        this.print(this.formatInstruction(this.instruction(at)));
      }),
      c(['disassemble', 'd'], 'disassemble <address_range>', 'Disassemble instructions in the address range (with labels and source lines).', (args) => {
        const [start, end] = this.range(args || `$${h4(cpu().pc)}`);
        this.disassembleRange(start, end);
      }),
      c(['goto', 'g'], 'goto <address>', 'Change the PC to address and continue execution (until BRK, a breakpoint or the end).', (args) => {
        if (!args) throw new Error('goto needs an address');
        s.debugger.setRegisters({ pc: this.number(args) });
        this.edited();
        return this.runStepwise((op) => op === 0x00, 'goto');
      }),
      c(['step', 'z'], 'step [count]', 'Single-step through instructions.', (args) => {
        const n = args ? this.value(args) : 1;
        for (let i = 0; i < n; i++) {
          if (this.tracing) this.print(this.formatInstruction(this.instruction(cpu().pc)));
          const stop = s.step('instruction');
          if (stop && stop.reason !== 'step') return this.report(stop);
        }
        this.disassembleRange(cpu().pc, cpu().pc);
      }),
      c(['next', 'n'], 'next', 'Step over: one instruction, a JSR running to its return.', (args) => {
        if (args) throw new Error('next takes no argument');
        const after = () => this.disassembleRange(cpu().pc, cpu().pc);
        const r = this.runFast('over');
        if (r) return r.then(after);
        after();
      }),
      c(['return', 'ret'], 'return', 'Continues execution and returns to the monitor just before the next RTS or RTI is executed.', () => this.runStepwise((op) => op === 0x60 || op === 0x40, 'return')),
      c(['until', 'un'], 'until <address>', 'Runs until the PC reaches the address (or a breakpoint, or the end).', (args) => {
        const b = s.addBreakpoint(this.number(args));
        const r = this.runFast('continue');
        if (!r) {
          s.deleteBreakpoint(b.id);
          return;
        }
        return r.finally(() => s.deleteBreakpoint(b.id));
      }),
      c(['continue', 'cont'], 'continue', 'Runs until a breakpoint, a watchpoint or the end of the program.', () => this.runFast('continue')),
      c(['back'], 'back [count]', 'Steps backwards by instructions, exactly to where the machine was.', (args) => {
        const n = args ? this.value(args) : 1;
        for (let i = 0; i < n; i++) {
          const stop = s.step('backInstruction')!;
          if (stop.historyStart) {
            this.print('At the start of the history');
            break;
          }
        }
        this.disassembleRange(cpu().pc, cpu().pc);
      }),
      c(['rcontinue', 'rc'], 'rcontinue', 'Runs backwards to the last breakpoint or watchpoint hit before now.', () => {
        const stop = s.step('reverseContinue')!;
        if (stop.historyStart) this.print('At the start of the history');
        else this.report(stop);
      }),
      c(['cycles'], 'cycles', 'Display the total number of cycles executed.', () => this.print(String(cpu().cycles))),
      c(['radix', 'rad'], 'radix [H|D|O|B]', 'Set default radix to hex, decimal, octal, or binary. With no argument, the current radix is printed.', (args) => {
        const radixes: Array<[string, number]> = [['Hexadecimal', 16], ['Decimal', 10], ['Octal', 8], ['Binary', 2]];
        if (args) {
          const r = radixes.find(([n]) => n[0].toLowerCase() === args[0].toLowerCase());
          if (!r) throw new Error(`illegal radix: ${args}`);
          this.radix = r[1];
        }
        this.print(`Default radix is ${radixes.find(([, v]) => v === this.radix)![0]}`);
      }),
      c(['~'], '~ <number>', 'Display a number in decimal, hex, octal, and binary.', (args) => {
        const n = this.value(args);
        this.print(`+${n}\n$${h2(n)}\n${n.toString(8).padStart(4, '0')}\n${n.toString(2).padStart(8, '0')}`);
      }),
      c(['load', 'l'], 'load <filename> <address>', 'Load a file into memory at the specified address (default: PC).', (args) => {
        const [file, at] = splitArgs(args);
        if (!file) throw new Error('load needs a file name');
        if (!this.options.readFile) throw new Error('this monitor cannot read files');
        const bytes = this.options.readFile(file);
        const start = at ? this.number(at) : cpu().pc;
        const end = Math.min(0xffff, start + bytes.length - 1);
        s.debugger.writeMemory(start, bytes.subarray(0, end - start + 1));
        this.edited();
        this.print(`Wrote +${end - start + 1} bytes from $${h4(start)} to $${h4(end)}`);
      }),
      c(['save', 's'], 'save "filename" <start> <end>', 'Save the specified memory range as a binary file.', (args) => {
        const [file, from, to] = splitArgs(args);
        if (!file || !from || !to) throw new Error('save needs a file name, a start and an end');
        if (!this.options.writeFile) throw new Error('this monitor cannot write files');
        const start = this.number(from);
        const end = this.number(to);
        const bytes = s.debugger.readMemory(start, Math.max(0, end - start + 1));
        this.options.writeFile(file, bytes);
        this.print(`Saved +${bytes.length} bytes to ${file}`);
      }),
      c(['add_label', 'al'], 'add_label <address> <label>', 'Map a given address to a label.', (args) => {
        const [at, name] = splitArgs(args);
        if (!name) throw new Error('add_label needs an address and a label');
        s.symbols.merge(symbolsOf({ [name]: this.number(at) }, s));
      }),
      c(['show_labels', 'shl'], 'show_labels', 'Display current label mappings.', () => {
        const entries = Object.entries(s.symbols.table()).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
        for (const [name, a] of entries) this.print(`${h4(a)}: ${name}`);
      }),
      c(['add_breakpoint', 'ab'], 'add_breakpoint <address|label|file:line>', 'Add a breakpoint on execution at the given address, label or source line.', (args) => this.addBreak(args)),
      c(['break', 'bk'], 'break [<address|label|file:line> [if <condition>]]', 'Add a breakpoint, with a condition (VICE); with no argument, list them.', (args) => {
        if (!args) return this.listBreaks();
        this.addBreak(args);
      }),
      c(['watch', 'w'], 'watch [r|w|rw] <address> [<end>] [if <condition>]', 'Stop when the guest reads and/or writes memory (VICE).', (args) => {
        const [main, cond] = splitCondition(args);
        const parts = main.split(/\s+/).filter(Boolean);
        let access: 'read' | 'write' | 'readWrite' = 'readWrite';
        if (['r', 'w', 'rw', 'load', 'store'].includes(parts[0]?.toLowerCase())) {
          const a = parts.shift()!.toLowerCase();
          access = a === 'r' || a === 'load' ? 'read' : a === 'w' || a === 'store' ? 'write' : 'readWrite';
        }
        if (!parts.length) throw new Error('watch needs an address');
        const start = this.number(parts[0]);
        const end = parts[1] ? this.number(parts[1]) : start;
        const w = s.addWatch(start, access, end - start + 1, { condition: cond });
        this.numbered.push(w.id);
        this.print(`Watchpoint ${this.numbered.length - 1} added at $${h4(start)}${end !== start ? `-$${h4(end)}` : ''} (${access === 'readWrite' ? 'read and write' : access})${cond ? ` if ${cond}` : ''}`);
      }),
      c(['delete_breakpoint', 'db', 'delete', 'del'], 'delete_breakpoint <number>', 'Delete the breakpoint (or watchpoint) marked by the given number.', (args) => {
        const n = Number(args);
        if (!/^\d+$/.test(args)) throw new Error(`illegal number: ${args}`);
        const id = this.numbered[n];
        if (id === undefined) throw new Error(`invalid breakpoint number ${n}`);
        if (id === null) return this.print(`Breakpoint ${n} already removed`);
        s.deleteBreakpoint(id);
        this.numbered[n] = null;
        this.print(`Breakpoint ${n} removed`);
      }),
      c(['show_breakpoints', 'shb'], 'show_breakpoints', 'Lists the currently assigned breakpoints.', () => this.listBreaks()),
      c(['trace'], 'trace [on|off]', 'Print each instruction as it executes in step, goto and return (VICE).', (args) => {
        if (args) {
          if (!/^(on|off)$/i.test(args)) throw new Error('trace takes on or off');
          this.tracing = args.toLowerCase() === 'on';
        }
        this.print(`Trace is ${this.tracing ? 'on' : 'off'}`);
      }),
      c(['history', 'chis'], 'history [count]', 'The last instructions executed (default 10), from the recorded history (VICE chis).', (args) => {
        const h = s.history;
        if (!h) throw new Error('this session keeps no history');
        const n = args ? this.value(args) : 10;
        const now = cpu().instructions;
        const from = Math.max(h.start.instructions, now - n);
        h.seek(from);
        const lines: string[] = [];
        while (cpu().instructions < now) {
          lines.push(`${this.formatInstruction(this.instruction(cpu().pc)).padEnd(34)}${cpu().cycles}`);
          h.seek(cpu().instructions + 1);
        }
        for (const l of lines) this.print(l);
      }),
      c(['backtrace', 'bt'], 'backtrace', 'The call stack, innermost first, from the JSR frames on the stack.', () => {
        s.stack().forEach((f, i) => this.print(`#${i}  $${h4(f.pc)}  ${f.name}${f.line ? `  ${f.line.file}:${f.line.line}` : ''}`));
      }),
      c(['input', 'type'], 'input "<text>"', "Types text on the guest's console (\\n, \\r for line ends).", (args) => {
        const [text] = splitArgs(args);
        s.input((text ?? '').replace(/\\n/g, '\n').replace(/\\r/g, '\r'));
      }),
      c(['reset'], 'reset', 'Reset the machine (the RESET sequence: devices and CPU).', () => {
        s.machine.reset();
        this.edited();
      }),
      c(['width'], 'width <columns>', 'Set the width used by some commands to wrap output.', (args) => {
        if (args) {
          const w = Number(args);
          if (!Number.isInteger(w)) throw new Error(`illegal width: ${args}`);
          if (w < 10) throw new Error('minimum terminal width is 10');
          this.width = w;
        }
        this.print(`Terminal width is ${this.width}`);
      }),
      c(['version'], 'version', 'Display version information.', () => this.print('\nhyper6502 monitor')),
      c(['help', 'h', '?'], 'help [<command>]', 'Print a list of available actions, or help for one.', (args) => {
        if (args) {
          const cmd = this.commands.find((x) => x.names.includes(args.toLowerCase()));
          if (!cmd) throw new Error(`no help for "${args}"`);
          this.print(`${cmd.usage}\n${cmd.help}${cmd.names.length > 1 ? `\nAlso: ${cmd.names.slice(1).join(', ')}` : ''}`);
          return;
        }
        this.print('Commands (help <command> for each):');
        const names = this.commands.map((x) => x.names[0]);
        for (let i = 0; i < names.length; i += 6) this.print('  ' + names.slice(i, i + 6).map((n) => n.padEnd(18)).join('').trimEnd());
      }),
      c(['quit', 'q', 'x', 'exit'], 'quit', 'Leave the monitor.', () => {
        this.done = true;
        this.print('');
      }),
    ];
  }

  private addBreak(args: string) {
    const s = this.session;
    const [where, cond] = splitCondition(args);
    if (!where) throw new Error('a breakpoint needs an address, a label or file:line');
    const b = /^[^:\s]+\.[A-Za-z0-9]+:\d+$/.test(where) ? s.addBreakpoint(where, { condition: cond }) : s.addBreakpoint(this.number(where), { condition: cond });
    this.numbered.push(b.id);
    const at = b.addresses.map((a) => `$${h4(a)}`).join(', ');
    this.print(`Breakpoint ${this.numbered.length - 1} added at ${at}${b.source ? ` (${b.source.file}:${b.source.line})` : ''}${cond ? ` if ${cond}` : ''}`);
  }

  private listBreaks() {
    const s = this.session;
    this.numbered.forEach((id, i) => {
      if (id === null) return;
      const b = s.breakpointList().find((x) => x.id === id);
      if (b) {
        const label = b.addresses.length === 1 ? s.symbols.label(b.addresses[0]) : undefined;
        this.print(`Breakpoint ${i}: ${b.addresses.map((a) => `$${h4(a)}`).join(', ')}${label ? ' ' + label : ''}${b.source ? ` ${b.source.file}:${b.source.line}` : ''}${b.condition ? ` if ${b.condition}` : ''}`);
        return;
      }
      const w = s.watchList().find((x) => x.id === id);
      if (w) this.print(`Watchpoint ${i}: $${h4(w.address)}${w.size > 1 ? `-$${h4(w.address + w.size - 1)}` : ''} ${w.access}${w.condition ? ` if ${w.condition}` : ''}`);
    });
  }
}

function symbolsOf(table: Record<string, number>, s: DebugSession) {
  return (s.symbols.constructor as typeof import('./symbols.js').DebugSymbols).fromTable(table);
}

/** Splits at " if " (VICE's conditions). */
function splitCondition(args: string): [string, string | undefined] {
  const m = /^(.*?)\s+if\s+(.+)$/i.exec(args);
  return m ? [m[1].trim(), m[2].trim()] : [args.trim(), undefined];
}

/** Words, with "quoted strings" as one. */
function splitArgs(args: string): string[] {
  return [...args.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' || line[i] === "'") quoted = !quoted;
    if (!quoted && line[i] === ';') return line.slice(0, i);
  }
  return line;
}

const h2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
const h4 = (n: number) => (n & 0xffff).toString(16).padStart(4, '0');
