// The demo page (`npm start`): the project's example programs, the built-in
// machines booted from the visitor's files (machine-picker.ts), a debugger,
// snapshots, an assembly editor and sixteen VMs in Web Workers.
//
// How to drive this: scripts/build-web.ts bundles it into dist/demo/demo.js
// with the library; index.html loads it. Everything a user can do here is
// reachable from the page's controls; tests drive the same controls.

import { Terminal } from '@xterm/xterm';
import {
  mountMachine, assemble, disassemble, Hypervisor, Easy6502Screen, SnapshotError, CoreMemory, isSim65, parseSim65, resolveSpec, DescriptionError,
  type EmbeddedMachine, type VmSpec, type Vm,
} from '../src/browser.js';
import { setUpMachinePicker } from './machine-picker.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const hex = (n: number, d: number) => n.toString(16).toUpperCase().padStart(d, '0');

function message(text: string, kind: 'error' | 'info' = 'error') {
  const box = $('message');
  box.textContent = text;
  box.className = kind;
  box.hidden = false;
}
function clearMessage() {
  $('message').hidden = true;
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`cannot load ${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
async function fetchText(path: string): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(path));
}

/** Files the editor's source may .include or .incbin (picked with "Project files"), by name. */
const projectFiles = new Map<string, Uint8Array>();

/** Reads a project file for the assembler: by its name, wherever the source says it is. */
function readProjectFile(path: string): Uint8Array {
  const file = projectFiles.get(path.slice(path.lastIndexOf('/') + 1));
  if (!file) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return file;
}

/**
 * Assembles a source (the easy6502 machine's dialect; ca65 syntax works too),
 * with the project files, or shows its errors at their lines and returns null.
 */
function assembleOrShow(source: string, name: string): Uint8Array | null {
  const program = assemble(source, { fileName: name, dialect: 'easy6502', readFile: readProjectFile });
  const list = $('asm-errors');
  list.innerHTML = '';
  if (program.ok) return program.bytes;
  for (const e of program.errors) {
    const li = document.createElement('li');
    li.textContent = `${e.file === name ? '' : `${e.file}, `}line ${e.line}, column ${e.column}: ${e.message}${(e.notes ?? []).map((n) => ` (${n.message} at line ${n.line})`).join('')}`;
    list.append(li);
  }
  message(`${name} has ${program.errors.length} error${program.errors.length === 1 ? '' : 's'}: see the editor.`);
  return null;
}

async function specFor(name: string): Promise<VmSpec | null> {
  switch (name) {
    case 'pixels': {
      const bytes = assembleOrShow(await fetchText('examples/pixels.s'), 'pixels.s');
      return bytes && { machine: 'easy6502', program: bytes, options: { rng: { seed: 1 } } };
    }
    case 'timer': {
      const source = await fetchText('examples/timer.s');
      const program = assemble(source, { fileName: 'timer.s' });
      if (!program.ok) return (message(`timer.s: ${program.errors[0].message}`), null);
      return { machine: 'board', program: program.bytes.subarray(program.bytes.length - 0x2000) };
    }
    case 'hello':
      return { machine: 'sim65', program: await fetchBytes('examples/hello.prg'), name: 'hello' };
    default: {
      const bytes = assembleOrShow(($('source') as HTMLTextAreaElement).value, 'editor');
      return bytes && { machine: 'easy6502', program: bytes };
    }
  }
}

/** A program from a file the visitor picked: assembly, a cc65 sim65 program, or machine code for $0600. */
async function specFromFile(file: File): Promise<VmSpec | null> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const name = file.name;
  if (/\.(s|asm)$/i.test(name)) {
    ($('source') as HTMLTextAreaElement).value = new TextDecoder().decode(bytes);
    const program = assembleOrShow(($('source') as HTMLTextAreaElement).value, name);
    return program && { machine: 'easy6502', program };
  }
  if (/\.prg$/i.test(name)) {
    if (!isSim65(bytes)) return (message(`${name} is not a cc65 sim65 program: it does not start with "sim65".`), null);
    try {
      parseSim65(bytes, name);
    } catch (err) {
      return (message((err as Error).message), null);
    }
    return { machine: 'sim65', program: bytes, name };
  }
  if (/\.bin$/i.test(name)) {
    if (bytes.length === 0 || bytes.length > 0xf000 - 0x0600) return (message(`${name} (${bytes.length} bytes) is not a program for $0600: it must hold 1 to ${0xf000 - 0x0600} bytes.`), null);
    return { machine: 'easy6502', program: bytes };
  }
  message(`${name} is not a program this page runs: use a .s file (assembly), a .prg file (cc65 for sim65) or a .bin file (machine code for $0600).`);
  return null;
}

// ---- The machine ------------------------------------------------------------
let em: EmbeddedMachine | null = null;
let term: Terminal | null = null;
let current = 'pixels';

async function load(name: string, given?: VmSpec) {
  clearMessage();
  const spec = given ?? (await specFor(name));
  if (!spec) return;
  try {
    resolveSpec(spec); // a bad spec leaves the machine that runs as it is
  } catch (err) {
    if (err instanceof DescriptionError) return message(`${name.replace(/^(file|machine):/, '')} cannot run: ${err.message}.`);
    throw err;
  }
  em?.destroy();
  term?.dispose();
  // The machine's description says whether it has a terminal: the embedding opens this one only then.
  term = new Terminal({ rows: 20, ...terminalSize(), convertEol: false });
  current = name;
  const examples = $('program') as HTMLSelectElement;
  examples.value = [...examples.options].some((o) => o.value === name) ? name : '';
  em = await mountMachine($('emu'), {
    spec,
    speed: speed(),
    terminal: term ?? undefined,
    onUpdate: showDebugger,
    onStop: (exit) => {
      $('run').textContent = 'Run';
      message(exit.reason === 'exit' ? `The program ended (exit code ${exit.code}).` : `Stopped: ${exit.reason} at $${hex(exit.pc, 4)}.`, exit.reason === 'fault' ? 'error' : 'info');
    },
  });
  em.focus();
  $('run').textContent = 'Pause';
  $('restore-autosave').hidden = !(await autosaved(name));
}

/**
 * 80 columns where they fit; on a narrow screen (a phone) as many as fit, at
 * least 40, in a smaller font, so that the terminal is never wider than the page.
 */
function terminalSize(): { cols: number; fontSize: number } {
  const width = $('emu').parentElement!.clientWidth - 4;
  const fontSize = width < 600 ? 12 : 15;
  const ctx = document.createElement('canvas').getContext('2d')!;
  ctx.font = `${fontSize}px courier-new, courier, monospace`; // xterm.js's default font
  const cell = ctx.measureText('W'.repeat(40)).width / 40;
  return { cols: Math.max(40, Math.min(80, Math.floor((width - 16) / cell))), fontSize };
}

function speed() {
  const v = ($('speed') as HTMLSelectElement).value;
  return v === 'max' ? ('max' as const) : { clockHz: Number(v) };
}

// ---- Debugger panel ------------------------------------------------------------
function showDebugger(m: EmbeddedMachine) {
  const r = m.debugger.registers();
  const flags = 'NV-BDIZC'.split('').map((f, i) => (r.p & (0x80 >> i) ? f : f.toLowerCase())).join('');
  $('registers').textContent = `PC=${hex(r.pc, 4)} A=${hex(r.a, 2)} X=${hex(r.x, 2)} Y=${hex(r.y, 2)} S=${hex(r.s, 2)} P=${flags}`;
  const state = !m.isRunning ? 'stopped' : m.idle ? 'idle (waiting for input)' : `${m.mhz.toFixed(2)} MHz`;
  $('stats').textContent = `cycles ${r.cycles.toLocaleString('en')}  instructions ${r.instructions.toLocaleString('en')}  ${state}`;
  const dis = $('disassembly');
  dis.innerHTML = '';
  for (const ins of m.debugger.disassembleAround(r.pc, 4, 8)) {
    const line = document.createElement('div');
    line.textContent = `${hex(ins.address, 4)}  ${ins.bytes.map((b) => hex(b, 2)).join(' ').padEnd(9)} ${ins.text}`;
    if (ins.address === r.pc) line.className = 'pc';
    dis.append(line);
  }
  const start = parseAddress(($('mem-address') as HTMLInputElement).value) ?? 0x200;
  const bytes = m.debugger.readMemory(start & 0xfff0, 64);
  const rows = [];
  for (let i = 0; i < 64; i += 16) rows.push(`${hex((start & 0xfff0) + i, 4)}  ${[...bytes.subarray(i, i + 16)].map((b) => hex(b, 2)).join(' ')}`);
  $('memory').textContent = rows.join('\n');
  const list = $('breakpoints');
  list.innerHTML = '';
  for (const a of m.machine.breakpointList) {
    const li = document.createElement('li');
    li.textContent = `$${hex(a, 4)} `;
    const remove = document.createElement('button');
    remove.textContent = 'remove';
    remove.onclick = () => {
      m.debugger.clearBreak(a);
      showDebugger(m);
    };
    li.append(remove);
    list.append(li);
  }
}

function parseAddress(text: string): number | null {
  const t = text.trim().replace(/^\$|^0x/i, '');
  if (!/^[0-9a-f]{1,4}$/i.test(t)) return null;
  return parseInt(t, 16);
}

// ---- Snapshots and autosave -----------------------------------------------------
function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('hyper6502-demo', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('autosave');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
let autosavedAt = { name: '', cycles: -1 };
async function autosave() {
  if (!em || !em.isRunning) return;
  // A guest asleep waiting for input has not changed: nothing to save.
  const cycles = em.machine.cpu.cycles;
  if (autosavedAt.name === current && autosavedAt.cycles === cycles) return;
  autosavedAt = { name: current, cycles };
  const bytes = em.snapshot();
  const d = await db();
  d.transaction('autosave', 'readwrite').objectStore('autosave').put(bytes, current);
}
async function autosaved(name: string): Promise<Uint8Array | undefined> {
  const d = await db();
  return new Promise((resolve) => {
    const req = d.transaction('autosave').objectStore('autosave').get(name);
    req.onsuccess = () => resolve(req.result as Uint8Array | undefined);
    req.onerror = () => resolve(undefined);
  });
}

async function restoreBytes(bytes: Uint8Array, from: string) {
  if (!em) return;
  try {
    await em.restore(bytes);
    message(`Restored the snapshot from ${from}.`, 'info');
  } catch (err) {
    const why = err instanceof SnapshotError ? err.message : `${from} is not a snapshot this page can use: ${(err as Error).message}`;
    message(why.replace(/^snapshot rejected: /, `${from} was rejected: `));
  }
}

// ---- Sixteen VMs ----------------------------------------------------------------------
let grid: { hv: Hypervisor; vms: Vm[]; canvases: HTMLCanvasElement[]; running: boolean; frames: number[] } | null = null;

async function startGrid() {
  if (grid) return stopGrid();
  const source = await fetchText('examples/pixels.s');
  const program = assemble(source).bytes;
  const hv = await Hypervisor.create({ workers: Math.min(4, navigator.hardwareConcurrency || 2) });
  const vms: Vm[] = [];
  const canvases: HTMLCanvasElement[] = [];
  $('grid').innerHTML = '';
  for (let i = 0; i < 16; i++) {
    vms.push(await hv.createVm({ machine: 'easy6502', program, options: { rng: { seed: i + 1 } } }, { schedule: { clockHz: 1_000_000 } }));
    const c = document.createElement('canvas');
    c.width = c.height = 32;
    $('grid').append(c);
    canvases.push(c);
  }
  await Promise.all(vms.map((vm) => vm.start()));
  grid = { hv, vms, canvases, running: true, frames: [] };
  $('grid-start').textContent = 'Stop';
  drawGrid();
}

async function drawGrid() {
  if (!grid?.running) return;
  const g = grid;
  let screens: Uint8Array[];
  try {
    screens = await Promise.all(g.vms.map((vm) => vm.peek(0x0200, 1024)));
  } catch (err) {
    if (!g.running) return; // stopped while this frame read the screens: the hypervisor is closed
    throw err;
  }
  if (!g.running) return;
  screens.forEach((bytes, i) => {
    const ctx = g.canvases[i].getContext('2d')!;
    const img = ctx.createImageData(32, 32);
    const ram = new Uint8Array(0x10000);
    ram.set(bytes, 0x0200);
    new Easy6502Screen(ram).render(img.data);
    ctx.putImageData(img, 0, 0);
  });
  const now = performance.now();
  g.frames.push(now);
  while (g.frames.length && now - g.frames[0] > 1000) g.frames.shift();
  $('grid-stats').textContent = `${g.frames.length} frames a second, ${g.vms.length} VMs`;
  requestAnimationFrame(() => void drawGrid());
}

async function stopGrid() {
  if (!grid) return;
  grid.running = false;
  await grid.hv.close();
  grid = null;
  $('grid-start').textContent = 'Start';
}

// ---- Wiring ------------------------------------------------------------------------
$('program').onchange = () => void load(($('program') as HTMLSelectElement).value);
$('run').onclick = () => {
  if (!em) return;
  if (em.isRunning) {
    em.pause();
    $('run').textContent = 'Run';
  } else {
    clearMessage();
    em.run();
    $('run').textContent = 'Pause';
  }
};
$('step').onclick = () => {
  em?.step();
  $('run').textContent = 'Run';
};
$('reset').onclick = () => em?.reset();
$('speed').onchange = () => em?.setSpeed(speed());
$('save').onclick = () => {
  if (!em) return;
  const bytes = em.snapshot();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
  a.download = `${current}.hyp6502`;
  a.click();
  URL.revokeObjectURL(a.href);
};
$('load').onchange = async () => {
  const input = $('load') as HTMLInputElement;
  const file = input.files?.[0];
  if (file) await restoreBytes(new Uint8Array(await file.arrayBuffer()), file.name);
  input.value = '';
};
$('load-program').onchange = async () => {
  const input = $('load-program') as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  clearMessage();
  const spec = await specFromFile(file);
  if (spec) await load(`file:${file.name}`, spec);
};
$('project-files').onchange = async () => {
  const input = $('project-files') as HTMLInputElement;
  for (const file of input.files ?? []) projectFiles.set(file.name, new Uint8Array(await file.arrayBuffer()));
  $('project-list').textContent = projectFiles.size ? `Project files: ${[...projectFiles.keys()].join(', ')}` : '';
  input.value = '';
};
$('restore-autosave').onclick = async () => {
  const bytes = await autosaved(current);
  if (bytes) await restoreBytes(bytes, 'the autosave');
};
$('bp-add').onclick = () => {
  const a = parseAddress(($('bp-address') as HTMLInputElement).value);
  if (a === null || !em) return message('A breakpoint needs an address such as $0600.');
  em.debugger.breakAt(a);
  showDebugger(em);
};
$('mem-address').onchange = () => em && showDebugger(em);
$('assemble').onclick = async () => {
  ($('program') as HTMLSelectElement).value = 'editor';
  await load('editor');
};
$('grid-start').onclick = () => void startGrid();
setUpMachinePicker({ boot: (label, spec) => load(`machine:${label}`, spec), message });
setInterval(() => void autosave().catch(() => {}), 5000);

// A first program for the editor.
($('source') as HTMLTextAreaElement).value = `; Draws a diagonal line in every colour, then stops.
        .org $0600
        ldx #0
loop:   txa
        sta $0200,x     ; top rows
        inx
        cpx #32
        bne loop
        brk
`;

// For tests and the browser benchmark: the page's state, and the library itself.
(window as unknown as { demo: unknown }).demo = {
  get machine() { return em; },
  get grid() { return grid; },
  /** What the last autosave saved (a guest idle since then is not saved again). */
  get autosavedAt() { return autosavedAt; },
  load,
  /** The terminal's text, line by line. */
  terminalText(): string[] {
    const buffer = term?.buffer.active;
    if (!buffer) return [];
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines;
  },
  lib: { CoreMemory, assemble, disassemble },
};
load('pixels').catch((err) => message(String(err)));
