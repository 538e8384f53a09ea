// A Debug Adapter Protocol server for hyper6502: VS Code and every other DAP
// client debug a program on any machine through it (`hyper6502 dap`).
//
// How to drive this:
//   const adapter = new DapAdapter((message) => send(message));   // each outgoing message as an object
//   adapter.handle(request);                                       // each incoming request as an object
//   serveDap(process.stdin, process.stdout);                       // or over streams, with DAP's framing
// Launch arguments: program, dbgfile, labels, machine, args, cpu, load,
// start, stopOnEntry, input (the guest's standard input), sourceRoot (where
// the debug info's relative source names are), history (false: no stepping
// backwards; or { maxBytes, interval }). In the debug console, an
// expression is evaluated, a line starting with '>' goes to the guest as
// input, and anything else is a monitor command (`help`).

import type { Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DebugProtocol as P } from '@vscode/debugprotocol';
import { DebugSession, hex4, type Stop } from '../debug/session.js';
import { launchProgram, type LaunchOptions } from '../debug/launch.js';
import { Monitor } from '../debug/monitor.js';

export interface LaunchArguments extends P.LaunchRequestArguments, LaunchOptions {
  stopOnEntry?: boolean;
  input?: string;
  sourceRoot?: string;
  history?: false | { maxBytes?: number; interval?: number };
}

const THREAD = 1;
/** Variable references: fixed scopes, then per-frame locals from FRAME_BASE. */
const REGISTERS = 1;
const FLAGS = 2;
const STACK = 3;
const ZERO_PAGE = 4;
const FRAME_BASE = 100;

export class DapAdapter {
  private seq = 1;
  private session?: DebugSession;
  private monitor?: Monitor;
  private launchArgs?: LaunchArguments;
  private running = false;
  private ended = false;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly send: (message: P.ProtocolMessage) => void) {}

  /** Handles one request (errors become error responses, never exceptions). */
  async handle(request: P.Request): Promise<void> {
    try {
      const body = await this.dispatch(request);
      this.respond(request, true, body);
    } catch (err) {
      this.respond(request, false, undefined, (err as Error).message);
    }
  }

  private respond(request: P.Request, success: boolean, body?: unknown, message?: string) {
    const r: P.Response = { seq: this.seq++, type: 'response', request_seq: request.seq, command: request.command, success };
    if (body !== undefined) r.body = body;
    if (message !== undefined) {
      r.message = message;
      r.body = { error: { id: 1, format: message, showUser: true } };
    }
    this.send(r);
  }

  private event(event: string, body?: unknown) {
    const e: P.Event = { seq: this.seq++, type: 'event', event };
    if (body !== undefined) e.body = body;
    this.send(e);
  }

  private get s(): DebugSession {
    if (!this.session) throw new Error('no program is running: launch one first');
    return this.session;
  }

  private async dispatch(r: P.Request): Promise<unknown> {
    const a = r.arguments ?? {};
    switch (r.command) {
      case 'initialize':
        return this.capabilities();
      case 'launch':
        await this.launch(a as LaunchArguments);
        this.event('initialized');
        return undefined;
      case 'attach':
        throw new Error('attach is not supported: hyper6502 has no host with VMs to attach to here; launch the program instead');
      case 'configurationDone':
        setTimeout(() => this.start(), 0);
        return undefined;
      case 'setBreakpoints':
        return this.setBreakpoints(a as P.SetBreakpointsArguments);
      case 'setFunctionBreakpoints':
        return { breakpoints: this.s.setFunctionBreakpoints((a as P.SetFunctionBreakpointsArguments).breakpoints).map((b) => ({ id: b.id, verified: b.verified, message: b.message })) };
      case 'setInstructionBreakpoints':
        return this.setInstructionBreakpoints(a as P.SetInstructionBreakpointsArguments);
      case 'setExceptionBreakpoints':
        return { breakpoints: [] };
      case 'dataBreakpointInfo':
        return this.dataBreakpointInfo(a as P.DataBreakpointInfoArguments);
      case 'setDataBreakpoints':
        return this.setDataBreakpoints(a as P.SetDataBreakpointsArguments);
      case 'threads':
        return { threads: [{ id: THREAD, name: this.session?.machine.spec?.name ?? 'cpu' }] };
      case 'continue':
        this.go('continue');
        return { allThreadsContinued: true };
      case 'next':
        this.go((a as P.NextArguments).granularity === 'instruction' ? 'overInstruction' : 'over');
        return undefined;
      case 'stepIn':
        this.go((a as P.StepInArguments).granularity === 'instruction' ? 'instruction' : 'line');
        return undefined;
      case 'stepOut':
        this.go('out');
        return undefined;
      case 'stepBack':
        this.go((a as P.StepBackArguments).granularity === 'instruction' ? 'backInstruction' : 'back');
        return undefined;
      case 'reverseContinue':
        this.go('reverseContinue');
        return undefined;
      case 'pause':
        if (this.running) this.s.pause();
        else this.reportStop({ reason: 'pause', description: 'paused' });
        return undefined;
      case 'stackTrace':
        return this.stackTrace(a as P.StackTraceArguments);
      case 'scopes':
        return this.scopes(a as P.ScopesArguments);
      case 'variables':
        return { variables: this.variables((a as P.VariablesArguments).variablesReference) };
      case 'setVariable':
        return this.setVariable(a as P.SetVariableArguments);
      case 'evaluate':
        return this.evaluate(a as P.EvaluateArguments);
      case 'disassemble':
        return this.disassemble(a as P.DisassembleArguments);
      case 'readMemory':
        return this.readMemory(a as P.ReadMemoryArguments);
      case 'writeMemory':
        return this.writeMemory(a as P.WriteMemoryArguments);
      case 'source':
        throw new Error('the sources are files: open them from their path');
      case 'terminate':
      case 'disconnect':
        this.stopRunning();
        this.session = undefined;
        if (!this.ended && r.command === 'terminate') this.event('terminated');
        this.ended = true;
        return undefined;
      default:
        throw new Error(`unknown request "${r.command}"`);
    }
  }

  private capabilities(): P.Capabilities {
    return {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsDataBreakpoints: true,
      supportsStepBack: true,
      supportsSteppingGranularity: true,
      supportsInstructionBreakpoints: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
    };
  }

  private async launch(a: LaunchArguments) {
    this.launchArgs = a;
    const launched = await launchProgram(a);
    const output = (bytes: Uint8Array) => this.event('output', { category: 'stdout', output: new TextDecoder().decode(bytes) });
    this.session = new DebugSession(launched.machine, {
      symbols: launched.symbols,
      cStackPointer: launched.cStackPointer,
      output,
      history: a.history === false ? false : a.history ?? {},
    });
    this.monitor = new Monitor(this.session, { radix: 16 });
    if (a.input !== undefined) {
      launched.machine.console.input(a.input);
      launched.machine.console.closeInput();
      this.session.edited();
    }
    this.event('output', { category: 'console', output: `hyper6502: ${launched.description}${launched.symbols.files.length ? `, debug info for ${launched.symbols.files.length} source files` : ''}\n` });
  }

  private start() {
    if (!this.session) return;
    if (this.launchArgs?.stopOnEntry) this.reportStop({ reason: 'entry', description: `stopped at the entry, ${this.s.where()}` });
    else this.go('continue');
  }

  // ---- Running ------------------------------------------------------------------------------

  private go(kind: Parameters<DebugSession['step']>[0]) {
    const s = this.s;
    if (this.running) throw new Error('the program is running: pause it first');
    this.running = true;
    const first = s.step(kind);
    if (first) {
      setTimeout(() => this.reportStop(first), 0);
      return;
    }
    const loop = () => {
      this.timer = undefined;
      if (!this.session) return;
      const stop = s.resume();
      if (stop) this.reportStop(stop);
      else this.timer = setTimeout(loop, s.waitingForInput ? 20 : 0);
    };
    this.timer = setTimeout(loop, 0);
  }

  private stopRunning() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = false;
  }

  private reportStop(stop: Stop) {
    this.running = false;
    if (stop.reason === 'exit') {
      this.event('output', { category: 'console', output: `hyper6502: ${stop.description}\n` });
      this.event('exited', { exitCode: stop.exitCode ?? 0 });
      this.event('terminated');
      this.ended = true;
      return;
    }
    const body: P.StoppedEvent['body'] = { reason: stop.reason, description: stop.description, threadId: THREAD, allThreadsStopped: true };
    if (stop.hit?.length) body.hitBreakpointIds = stop.hit;
    if (stop.reason === 'exception') body.text = stop.description;
    this.event('stopped', body);
  }

  // ---- Breakpoints ----------------------------------------------------------------------------

  private setBreakpoints(a: P.SetBreakpointsArguments) {
    const path = a.source.path ?? a.source.name ?? '';
    const list = this.s.setSourceBreakpoints(path, (a.breakpoints ?? a.lines?.map((line) => ({ line })) ?? []).map((b) => ({ ...b })));
    return {
      breakpoints: list.map((b) => ({ id: b.id, verified: b.verified, line: b.source?.line, source: a.source, message: b.message })),
    };
  }

  private setInstructionBreakpoints(a: P.SetInstructionBreakpointsArguments) {
    const s = this.s;
    for (const b of s.breakpointList()) if (b.kind === 'address') s.deleteBreakpoint(b.id);
    return {
      breakpoints: a.breakpoints.map((ib) => {
        const address = (parseAddressRef(ib.instructionReference) + (ib.offset ?? 0)) & 0xffff;
        const b = s.addBreakpoint(address, ib);
        return { id: b.id, verified: true, instructionReference: `0x${hex4(address)}` };
      }),
    };
  }

  private dataBreakpointInfo(a: P.DataBreakpointInfoArguments) {
    const s = this.s;
    let address: number | undefined;
    let size = 1;
    if (a.variablesReference !== undefined && a.variablesReference >= FRAME_BASE) {
      const local = s.locals(a.variablesReference - FRAME_BASE).find((l) => l.name === a.name);
      address = local?.address;
      size = 2;
    } else {
      try {
        address = s.resolve(a.name);
      } catch {
        address = undefined;
      }
    }
    if (address === undefined) return { dataId: null, description: `${a.name} has no address to watch` };
    return { dataId: `0x${hex4(address)}:${size}`, description: `${a.name} ($${hex4(address)}, ${size} byte${size > 1 ? 's' : ''})`, accessTypes: ['read', 'write', 'readWrite'], canPersist: true };
  }

  private setDataBreakpoints(a: P.SetDataBreakpointsArguments) {
    const list = a.breakpoints.map((b) => {
      const [addr, size] = b.dataId.split(':');
      return { address: parseAddressRef(addr), size: Number(size ?? 1), access: b.accessType ?? 'write', condition: b.condition, hitCondition: b.hitCondition };
    });
    return { breakpoints: this.s.setWatches(list).map((w) => ({ id: w.id, verified: true })) };
  }

  // ---- Where it is ------------------------------------------------------------------------------

  private sourceOf(file: string): P.Source {
    const root = this.launchArgs?.sourceRoot ?? (this.launchArgs?.dbgfile ? dirname(resolve(this.launchArgs.cwd ?? '.', this.launchArgs.dbgfile)) : this.launchArgs?.program ? dirname(resolve(this.launchArgs.cwd ?? '.', this.launchArgs.program)) : process.cwd());
    const path = isAbsolute(file) ? file : resolve(root, file);
    return existsSync(path) ? { name: file.split('/').pop(), path } : { name: file };
  }

  private stackTrace(a: P.StackTraceArguments) {
    const frames = this.s.stack();
    const start = a.startFrame ?? 0;
    const shown = frames.slice(start, a.levels ? start + a.levels : undefined);
    return {
      totalFrames: frames.length,
      stackFrames: shown.map((f, i) => {
        const frame: P.StackFrame = { id: start + i + 1, name: f.name, line: f.line?.line ?? 0, column: f.line ? 1 : 0, instructionPointerReference: `0x${hex4(f.pc)}` };
        if (f.line) frame.source = this.sourceOf(f.line.file);
        else frame.presentationHint = 'subtle';
        return frame;
      }),
    };
  }

  private scopes(a: P.ScopesArguments) {
    const index = a.frameId - 1;
    const scopes: P.Scope[] = [];
    const frame = this.s.stack()[index];
    if (frame?.fn?.c) scopes.push({ name: 'Locals', presentationHint: 'locals', variablesReference: FRAME_BASE + index, expensive: false });
    scopes.push({ name: 'Registers', presentationHint: 'registers', variablesReference: REGISTERS, expensive: false });
    scopes.push({ name: 'Stack', variablesReference: STACK, expensive: false });
    scopes.push({ name: 'Zero page', variablesReference: ZERO_PAGE, expensive: true });
    return { scopes };
  }

  private variables(ref: number): P.Variable[] {
    const s = this.s;
    const cpu = s.machine.cpu;
    const h2 = (n: number) => '$' + n.toString(16).toUpperCase().padStart(2, '0');
    const v = (name: string, value: string, extra: Partial<P.Variable> = {}): P.Variable => ({ name, value, variablesReference: 0, ...extra });
    if (ref === REGISTERS) {
      return [
        v('PC', '$' + hex4(cpu.pc), { memoryReference: `0x${hex4(cpu.pc)}` }),
        v('A', h2(cpu.a)),
        v('X', h2(cpu.x)),
        v('Y', h2(cpu.y)),
        v('S', h2(cpu.s)),
        v('P', `${h2(cpu.p)} ${flagString(cpu.p)}`, { variablesReference: FLAGS }),
        v('cycles', String(cpu.cycles)),
      ];
    }
    if (ref === FLAGS) return ['N', 'V', 'B', 'D', 'I', 'Z', 'C'].map((f) => v(f, String(s.register(f))));
    if (ref === STACK) {
      const out: P.Variable[] = [];
      for (let a = 0x100 + cpu.s + 1; a <= 0x1ff && out.length < 64; a++) out.push(v(`$${hex4(a)}`, h2(s.machine.peekBus(a)), { memoryReference: `0x${hex4(a)}` }));
      return out;
    }
    if (ref === ZERO_PAGE) {
      const out: P.Variable[] = [];
      for (let row = 0; row < 0x100; row += 16) {
        const bytes = [...s.debugger.readMemory(row, 16)].map((b) => b.toString(16).toUpperCase().padStart(2, '0'));
        out.push(v(`$${hex4(row)}`, bytes.join(' '), { memoryReference: `0x${hex4(row)}` }));
      }
      return out;
    }
    if (ref >= FRAME_BASE) {
      return s.locals(ref - FRAME_BASE).map((l) =>
        v(l.name, l.value === undefined ? '(no address)' : `${(l.value << 16) >> 16} ($${hex4(l.value)})`, l.address === undefined ? {} : { memoryReference: `0x${hex4(l.address)}`, evaluateName: l.name }),
      );
    }
    return [];
  }

  private setVariable(a: P.SetVariableArguments) {
    const s = this.s;
    const value = s.evaluate(a.value);
    if (a.variablesReference === REGISTERS) {
      const name = a.name.toLowerCase();
      if (!['pc', 'a', 'x', 'y', 's', 'p'].includes(name)) throw new Error(`${a.name} cannot be set`);
      s.debugger.setRegisters({ [name]: value & (name === 'pc' ? 0xffff : 0xff) });
    } else if (a.variablesReference >= FRAME_BASE) {
      const local = s.locals(a.variablesReference - FRAME_BASE).find((l) => l.name === a.name);
      if (local?.address === undefined) throw new Error(`${a.name} has no address`);
      s.debugger.writeMemory(local.address, [value & 0xff, (value >> 8) & 0xff]);
    } else throw new Error(`${a.name} cannot be set here`);
    s.edited();
    return { value: String(value) };
  }

  private evaluate(a: P.EvaluateArguments) {
    const s = this.s;
    const text = a.expression.trim();
    if (a.context === 'repl' && text.startsWith('>')) {
      s.input(text.slice(1).replace(/^ /, '') + '\n');
      return { result: '', variablesReference: 0 };
    }
    try {
      const value = s.evaluate(text);
      return { result: `${value} ($${(value & 0xffff).toString(16).toUpperCase()})`, variablesReference: 0 };
    } catch (err) {
      if (a.context !== 'repl') throw err;
      // Not an expression: a monitor command.
      if (this.running) throw new Error('the program is running: pause it first');
      return { result: this.monitor!.execute(text).replace(/\n$/, ''), variablesReference: 0 };
    }
  }

  private disassemble(a: P.DisassembleArguments) {
    const s = this.s;
    const base = (parseAddressRef(a.memoryReference) + (a.offset ?? 0)) & 0xffff;
    const offset = a.instructionOffset ?? 0;
    const count = a.instructionCount;
    const before = Math.max(0, -offset);
    const list = s.debugger.disassembleAround(base, before, Math.max(0, count - before + Math.max(0, offset)));
    const from = list.findIndex((i) => i.address === base) - before + Math.max(0, offset);
    const shown = list.slice(Math.max(0, from), Math.max(0, from) + count);
    let lastLine = '';
    return {
      instructions: shown.map((ins) => {
        const d: P.DisassembledInstruction = {
          address: `0x${hex4(ins.address)}`,
          instructionBytes: ins.bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' '),
          instruction: ins.text,
        };
        const label = s.symbols.label(ins.address);
        if (label) d.symbol = label;
        const line = s.symbols.lineAt(ins.address);
        if (line && `${line.file}:${line.line}` !== lastLine) {
          d.location = this.sourceOf(line.file);
          d.line = line.line;
          lastLine = `${line.file}:${line.line}`;
        }
        return d;
      }),
    };
  }

  private readMemory(a: P.ReadMemoryArguments) {
    const address = (parseAddressRef(a.memoryReference) + (a.offset ?? 0)) & 0xffff;
    const count = Math.max(0, Math.min(a.count, 0x10000 - address));
    const bytes = this.s.debugger.readMemory(address, count);
    return { address: `0x${hex4(address)}`, data: Buffer.from(bytes).toString('base64'), unreadableBytes: a.count - count };
  }

  private writeMemory(a: P.WriteMemoryArguments) {
    const address = (parseAddressRef(a.memoryReference) + (a.offset ?? 0)) & 0xffff;
    const bytes = Buffer.from(a.data, 'base64');
    this.s.debugger.writeMemory(address, bytes);
    this.s.edited();
    return { bytesWritten: bytes.length };
  }
}

function parseAddressRef(ref: string): number {
  const t = ref.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\$[0-9a-f]+$/i.test(t) ? parseInt(t.slice(1), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (Number.isNaN(n)) throw new Error(`"${ref}" is not a memory reference (write 0x1234)`);
  return n;
}

function flagString(p: number): string {
  return 'NV-BDIZC'.split('').map((f, i) => ((p >> (7 - i)) & 1 ? f : f === '-' ? '-' : '.')).join('');
}

/** Serves DAP over a pair of streams (stdio, a socket) with its Content-Length framing. */
export function serveDap(input: Readable, output: Writable): DapAdapter {
  const adapter = new DapAdapter((message) => {
    const json = Buffer.from(JSON.stringify(message), 'utf8');
    output.write(`Content-Length: ${json.length}\r\n\r\n`);
    output.write(json);
  });
  let buffer = Buffer.alloc(0);
  let queue = Promise.resolve();
  input.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = buffer.subarray(0, end).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) {
        buffer = buffer.subarray(end + 4);
        continue;
      }
      const length = Number(m[1]);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      buffer = buffer.subarray(end + 4 + length);
      let request: P.Request;
      try {
        request = JSON.parse(body);
      } catch {
        continue;
      }
      queue = queue.then(() => adapter.handle(request));
    }
  });
  return adapter;
}
