// The debug adapter driven by a DAP client (@vscode/debugadapter-testsupport)
// through whole sessions on a cc65 C program and an assembly program built
// with debug info: breakpoints hit the right lines, steps land on the right
// lines, the stack names the right functions, and reverse steps land exactly
// where the forward steps were (registers, cycles and memory).

import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol as P } from '@vscode/debugprotocol';
import { serveDap } from '../../src/dap/adapter.ts';
import { buildFixtures, hasCl65 } from './fixtures.ts';

let dir = '';
let server: Server;
let port = 0;
let dc: DebugClient;

beforeAll(async () => {
  if (!hasCl65) return;
  dir = buildFixtures();
  server = createServer((socket) => serveDap(socket, socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  return () => server.close();
});

afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

async function connect(): Promise<DebugClient> {
  dc = new DebugClient('node', 'unused', 'hyper6502');
  await dc.start(port);
  dc.defaultTimeout = 20_000;
  return dc;
}

const sum = () => join(dir, 'sum.c');
const count = () => join(dir, 'count.s');

/** Launches, sets breakpoints once initialized, and waits for the first stop. */
async function launchTo(program: string, breakpoints: Record<string, P.SourceBreakpoint[]>, extra: Record<string, unknown> = {}): Promise<P.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<P.StoppedEvent>;
  await Promise.all([
    dc.initializeRequest({ adapterID: 'hyper6502', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' }),
    dc.waitForEvent('initialized').then(async () => {
      for (const [path, list] of Object.entries(breakpoints)) await dc.setBreakpointsRequest({ source: { path }, breakpoints: list });
      await dc.configurationDoneRequest();
    }),
    dc.launchRequest({ program: join(dir, program), ...extra } as P.LaunchRequestArguments),
  ]);
  return stopped;
}

async function frames(): Promise<Array<{ name: string; line: number; file?: string }>> {
  const r = await dc.stackTraceRequest({ threadId: 1 });
  return r.body.stackFrames.map((f) => ({ name: f.name, line: f.line, file: f.source?.name }));
}

/** Everything that must match after going back: registers, cycles and all of memory. */
async function state(): Promise<string> {
  const scopes = await dc.scopesRequest({ frameId: 1 });
  const regs = scopes.body.scopes.find((s) => s.name === 'Registers')!;
  const vars = await dc.variablesRequest({ variablesReference: regs.variablesReference });
  const mem = (await dc.customRequest('readMemory', { memoryReference: '0x0000', count: 0x10000 })) as P.ReadMemoryResponse;
  return vars.body.variables.map((v) => `${v.name}=${v.value}`).join(' ') + ' mem=' + mem.body!.data!.length + ':' + hash(mem.body!.data!);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

async function step(kind: 'stepIn' | 'next' | 'stepOut' | 'stepBack' | 'continue' | 'reverseContinue', granularity?: P.SteppingGranularity): Promise<P.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<P.StoppedEvent>;
  const args = { threadId: 1, ...(granularity ? { granularity } : {}) };
  if (kind === 'stepIn') await dc.stepInRequest(args);
  else if (kind === 'next') await dc.nextRequest(args);
  else if (kind === 'stepOut') await dc.stepOutRequest(args);
  else if (kind === 'stepBack') await dc.stepBackRequest(args);
  else if (kind === 'continue') await dc.continueRequest(args);
  else await dc.reverseContinueRequest(args);
  return stopped;
}

async function local(name: string): Promise<string | undefined> {
  const scopes = await dc.scopesRequest({ frameId: 1 });
  const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
  if (!locals) return undefined;
  const vars = await dc.variablesRequest({ variablesReference: locals.variablesReference });
  return vars.body.variables.find((v) => v.name === name)?.value;
}

describe.runIf(hasCl65)('hyper6502 dap on a cc65 C program (sum.c)', () => {
  it('stops at a source breakpoint on its line, steps into and over by line, names the functions of the stack', async () => {
    await connect();
    const stop = await launchTo('sum.prg', { [sum()]: [{ line: 18 }] });
    expect(stop.body.reason).toBe('breakpoint');
    expect(await frames()).toEqual([{ name: 'main', line: 18, file: 'sum.c' }]);
    expect(await local('i')).toMatch(/^0 /);

    await step('stepIn');
    expect((await frames()).map((f) => `${f.name}:${f.line}`)).toEqual(['add:10', 'main:18']);
    await step('next');
    expect((await frames())[0]).toMatchObject({ name: 'add', line: 11 });
    await step('next');
    expect((await frames())[0]).toMatchObject({ name: 'add', line: 12 });
    expect(await local('s')).toMatch(/^1 /);
    await step('stepIn');
    expect((await frames()).map((f) => `${f.name}:${f.line}`)).toEqual(['square:4', 'add:12', 'main:18']);
    // Out of square: its return lands on the start of line 13 (add's epilogue).
    await step('stepOut');
    expect((await frames()).map((f) => `${f.name}:${f.line}`)).toEqual(['add:13', 'main:18']);
    // Out of add by a line step: back in main at the loop's increment; the next one hits the breakpoint again.
    await step('next');
    expect(await frames()).toEqual([{ name: 'main', line: 17, file: 'sum.c' }]);
    expect((await step('next')).body.reason).toBe('breakpoint');
    expect(await local('i')).toMatch(/^1 /);
  });

  it('steps back exactly to where each forward step was, by line and by instruction, and reverse-continues to the last hit', async () => {
    await connect();
    await launchTo('sum.prg', { [sum()]: [{ line: 11 }] });
    const seen = [await state()];
    const lines = [(await frames())[0].line];
    for (const kind of ['next', 'stepIn', 'next', 'next'] as const) {
      await step(kind);
      seen.push(await state());
      lines.push((await frames())[0].line);
    }
    expect(lines).toEqual([11, 12, 4, 6, 8]);
    // Back over the steps taken by 'next' in the same function: exactly the states before.
    await step('stepBack');
    expect(await state()).toBe(seen[3]);
    await step('stepBack');
    expect(await state()).toBe(seen[2]);
    for (let i = 0; i < 6; i++) await step('stepIn', 'instruction');
    const forward: string[] = [await state()];
    for (let i = 0; i < 6; i++) {
      await step('stepBack', 'instruction');
      forward.push(await state());
    }
    expect(forward[6]).toBe(seen[2]);
    expect(forward.slice(0, 6).every((x, i) => x !== forward[i + 1])).toBe(true);
    // Continue to the breakpoint's next hit (the next call of add), then back to the first hit.
    const hit = await step('continue');
    expect(hit.body.reason).toBe('breakpoint');
    expect(await local('a')).toMatch(/^1 /);
    const back = await step('reverseContinue');
    expect(back.body.reason).toBe('breakpoint');
    expect(await state()).toBe(seen[0]);
    expect(await local('a')).toMatch(/^0 /);
  });

  it('function, conditional and hit-count breakpoints; the guest output; the exit status', async () => {
    await connect();
    const output: string[] = [];
    dc.on('output', (e: P.OutputEvent) => output.push(e.body.output));
    const first = dc.waitForEvent('stopped') as Promise<P.StoppedEvent>;
    await Promise.all([
      dc.initializeRequest({ adapterID: 'hyper6502' }),
      dc.waitForEvent('initialized').then(async () => {
        const f = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square', hitCondition: '2' }] });
        expect(f.body.breakpoints[0].verified).toBe(true);
        const b = await dc.setBreakpointsRequest({ source: { path: sum() }, breakpoints: [{ line: 12, condition: 'a == 2' }, { line: 19, logMessage: 'i is {i}' }, { line: 999 }] });
        expect(b.body.breakpoints.map((x) => x.verified)).toEqual([true, true, false]);
        expect(b.body.breakpoints[1].line).toBe(20); // line 19 has no code: the next line that has
        await dc.configurationDoneRequest();
      }),
      dc.launchRequest({ program: join(dir, 'sum.prg') } as P.LaunchRequestArguments),
    ]);
    let stop = await first;
    expect(stop.body.reason).toBe('function breakpoint');
    expect((await frames()).map((f) => f.name)).toEqual(['square', 'add', 'main']);
    expect(await local('v')).toBe('(no address)'); // the prologue has not pushed it yet
    await step('next');
    expect(await local('v')).toMatch(/^2 /); // the second call: add(1, 1)
    stop = await step('continue');
    expect(stop.body.reason).toBe('breakpoint');
    expect(await local('a')).toMatch(/^2 /);
    const exited = dc.waitForEvent('exited') as Promise<P.ExitedEvent>;
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(14);
    expect(output.join('')).toContain('t=14\n');
    expect(output.filter((o) => o.startsWith('i is ')).join('')).toBe('i is 3\n');
  });

  it('runs over stdio as an editor starts it', async () => {
    dc = new DebugClient(join(process.cwd(), 'node_modules/.bin/tsx'), join(process.cwd(), 'test/debug/dap-stdio.ts'), 'hyper6502');
    await dc.start();
    dc.defaultTimeout = 20_000;
    const stop = await launchTo('sum.prg', { [sum()]: [{ line: 21 }] });
    expect(stop.body.reason).toBe('breakpoint');
    expect((await frames())[0]).toMatchObject({ name: 'main', line: 21 });
    const e = await dc.evaluateRequest({ expression: 't', context: 'watch', frameId: 1 });
    expect(e.body.result).toMatch(/^14 /);
  });
});

describe.runIf(hasCl65)('hyper6502 dap on an assembly program (count.s)', () => {
  it('breakpoints on assembly lines, the stack from the JSR frames, watchpoints, memory, disassembly, evaluate', async () => {
    await connect();
    const stop = await launchTo('count.prg', { [count()]: [{ line: 23, hitCondition: '3' }] });
    expect(stop.body.reason).toBe('breakpoint');
    expect(await frames()).toEqual([
      { name: 'bump', line: 23, file: 'count.s' },
      { name: '_main', line: 14, file: 'count.s' },
    ]);
    const counter = await dc.evaluateRequest({ expression: 'counter', context: 'watch' });
    const address = Number(counter.body.result.split(' ')[0]);
    const mem = (await dc.customRequest('readMemory', { memoryReference: `0x${address.toString(16)}`, count: 1 })) as P.ReadMemoryResponse;
    expect(Buffer.from(mem.body!.data!, 'base64')[0]).toBe(2);
    expect((await dc.evaluateRequest({ expression: '[counter] == 2 && X == 3', context: 'watch' })).body.result).toMatch(/^1 /);

    const dis = await dc.disassembleRequest({ memoryReference: `0x${address.toString(16)}`, instructionOffset: 0, instructionCount: 1 });
    expect(dis.body!.instructions.length).toBe(1);
    const pc = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].instructionPointerReference!;
    const around = await dc.disassembleRequest({ memoryReference: pc, instructionOffset: -3, instructionCount: 5 });
    const list = around.body!.instructions;
    // Three whole instructions before PC (never one cut in the middle), then PC's: INC counter.
    expect(list.findIndex((i) => i.address === pc)).toBe(3);
    expect(list[3].instruction).toMatch(/^INC \$[0-9A-F]{4}$/);
    expect(list[3]).toMatchObject({ symbol: 'bump', line: 23 });
    expect(list[2].instruction).toBe('RTS');

    // A data breakpoint on the counter: the next write stops the run after it.
    await dc.setBreakpointsRequest({ source: { path: count() }, breakpoints: [] });
    const info = await dc.dataBreakpointInfoRequest({ name: 'counter' });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    const w = await step('continue');
    expect(w.body.reason).toBe('data breakpoint');
    const after = (await dc.customRequest('readMemory', { memoryReference: `0x${address.toString(16)}`, count: 1 })) as P.ReadMemoryResponse;
    expect(Buffer.from(after.body!.data!, 'base64')[0]).toBe(3);
    // Written from the debugger, the program ends with that count.
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
    await dc.customRequest('writeMemory', { memoryReference: `0x${address.toString(16)}`, data: Buffer.from([40]).toString('base64') });
    const exited = dc.waitForEvent('exited') as Promise<P.ExitedEvent>;
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(42);
  });

  it('stops on entry; a monitor command in the debug console; a bad launch is one clear error', async () => {
    await connect();
    await dc.initializeRequest({ adapterID: 'hyper6502' });
    const bad = await dc.launchRequest({ program: join(dir, 'missing.prg') } as P.LaunchRequestArguments).catch((e: Error) => e);
    expect((bad as Error).message).toMatch(/cannot read .*missing\.prg: no such file/);
    await dc.stop();
    await connect();
    const stop = await launchTo('count.prg', {}, { stopOnEntry: true });
    expect(stop.body.reason).toBe('entry');
    const r = await dc.evaluateRequest({ expression: 'mem 0200:0201', context: 'repl' });
    expect(r.body.result).toMatch(/^0200: {2}[0-9a-f]{2} {2}[0-9a-f]{2}\n/);
  });
});
