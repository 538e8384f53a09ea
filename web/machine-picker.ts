// The demo's machine picker: every built-in machine of the library, with the
// files and addresses it needs, booted from files the visitor picks (nothing
// is fetched: the ROMs the project does not ship come from the visitor's disk).
//
// How to drive this: index.html has #machine (a select), #machine-fields,
// #machine-title and #boot; `setUpMachinePicker({ boot, message })` fills the
// select from the registry and, on Boot, hands a checked VM spec to `boot`
// or one sentence saying what is wrong to `message`. What each machine asks
// for is read from its description (`machineForm`): a file for every memory
// region that `needs` one, the program (its load address suggested from its
// size), a start address, the CPU where the machine leaves it open.

import {
  findMachine, machineNames, checkMachine, resolveSpec, isSim65, DescriptionError, CPU_MODELS,
  type MachineSpec, type VmSpec, type CpuModel,
} from '../src/browser.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const hex = (n: number, d = 4) => n.toString(16).toUpperCase().padStart(d, '0');
const sizeText = (n: number) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} byte${n === 1 ? '' : 's'}`);

type Checked = ReturnType<typeof checkMachine>;
type Region = Checked['memory'][number];

/** A memory region the machine cannot run without, filled by a file of exactly its size. */
interface Need {
  start: number;
  end: number;
  /** What goes there, as the description says it (without the command line's flags). */
  what: string;
}

/** What the page asks for to boot a machine. */
export interface MachineForm {
  name: string;
  title: string;
  memory: Region[];
  format: 'bin' | 'sim65';
  /** The program is the image of this region (a ROM that holds the machine's vectors). */
  programFills?: Need;
  /** Regions filled by files of their own (Wozmon at $FF00). */
  roms: Need[];
  /** A program is optional when a ROM of the machine's own holds the reset vector. */
  programRequired: boolean;
  /** Where the machine puts a program by itself: at an address, or ending at one. */
  address?: number;
  endsAt?: number;
  /** The visitor gives a load address, a start address, a CPU. */
  loadField: boolean;
  startField: boolean;
  cpuChoice: boolean;
}

/** "the Woz Monitor ROM (--rom wozmon.bin@0xFF00)" as a page says it: "the Woz Monitor ROM". */
const withoutFlags = (needs: string) => needs.replace(/,?\s*--[a-z]+ [^,)]*/g, '').replace(/\s*\(\)/g, '');

export function machineForm(name: string): MachineForm {
  const spec = findMachine(name) as MachineSpec;
  const checked = checkMachine(spec, { partial: true });
  const needs = checked.memory.filter((r) => r.needs && !r.image).map((r) => ({ start: r.start, end: r.end, what: withoutFlags(r.needs!) }));
  const address = checked.program.address;
  const programFills = address === undefined ? undefined : needs.find((r) => address >= r.start && address <= r.end);
  const roms = needs.filter((r) => r !== programFills);
  const bin = checked.program.format === 'bin';
  return {
    name,
    title: spec.title ?? name,
    memory: checked.memory,
    format: checked.program.format,
    programFills,
    roms,
    programRequired: !roms.some((r) => r.start <= 0xfffc && r.end >= 0xfffd),
    address,
    endsAt: checked.program.end,
    loadField: bin && !programFills,
    startField: bin && checked.program.start === 'reset' && !programFills && roms.length === 0,
    cpuChoice: bin && spec.cpu === undefined,
  };
}

/** Memory a program may take: mapped, and not a region that needs a ROM of its own. */
function takes(form: MachineForm, first: number, last: number): boolean {
  for (let page = first >> 8; page <= last >> 8; page++) {
    const r = form.memory.find((m) => page >= m.start >> 8 && page <= m.end >> 8);
    if (!r || r.kind === 'unmapped' || form.roms.some((n) => n.start === r.start)) return false;
  }
  return true;
}

/**
 * Where a program of `size` bytes goes unless the visitor says otherwise: the
 * machine's own address; else ending at $FFFF, where its vectors are (EhBASIC
 * at $C000, Tali Forth 2 at $8000), if the machine has memory there for it;
 * else the start of the highest RAM it fits in (Apple 1 BASIC at $E000).
 */
export function suggestedLoad(form: MachineForm, size: number): number | undefined {
  if (form.address !== undefined) return form.address;
  if (form.endsAt !== undefined) return form.endsAt + 1 - size;
  if (size > 0 && size <= 0x10000 && takes(form, 0x10000 - size, 0xffff)) return 0x10000 - size;
  return form.memory
    .filter((r) => r.kind === 'ram' && r.end - r.start + 1 >= size)
    .sort((a, b) => b.start - a.start)[0]?.start;
}

// ---- The form's fields ----------------------------------------------------------------
const needText = (n: Need) => `${n.what}, ${sizeText(n.end - n.start + 1)} for $${hex(n.start)}-$${hex(n.end)}`;
const romId = (n: Need) => `machine-rom-${hex(n.start).toLowerCase()}`;

function field(label: string, control: HTMLElement, className = ''): HTMLLabelElement {
  const l = document.createElement('label');
  if (className) l.className = className;
  l.append(`${label} `, control);
  return l;
}

function fileInput(id: string, accept?: string): HTMLInputElement {
  const input = document.createElement('input');
  input.type = 'file';
  input.id = id;
  if (accept) input.accept = accept;
  return input;
}

function textInput(id: string, placeholder: string): HTMLInputElement {
  const input = document.createElement('input');
  input.id = id;
  input.size = 7;
  input.placeholder = placeholder;
  input.spellcheck = false;
  return input;
}

function showFields(form: MachineForm) {
  $('machine-title').textContent = form.title;
  const box = $('machine-fields');
  box.innerHTML = '';
  for (const n of form.roms) box.append(field(needText(n), fileInput(romId(n), '.bin,.rom'), 'file'));
  const program = fileInput('machine-program', form.format === 'sim65' ? '.prg' : '.bin,.rom');
  const label = form.programFills ? `ROM: ${needText(form.programFills)}` : form.format === 'sim65' ? 'Program (cl65 -t sim6502 or sim65c02)' : form.programRequired ? 'Program' : 'Program (optional)';
  box.append(field(label, program, 'file'));
  if (form.loadField) {
    const load = textInput('machine-load', form.endsAt !== undefined ? `ends $${hex(form.endsAt)}` : '$C000');
    box.append(field('Load at', load));
    program.onchange = () => {
      const file = program.files?.[0];
      const at = file && suggestedLoad(form, file.size);
      load.value = at === undefined ? '' : `$${hex(at)}`;
    };
  }
  if (form.startField) box.append(field('Start', textInput('machine-start', 'reset')));
  if (form.cpuChoice) {
    const cpu = document.createElement('select');
    cpu.id = 'machine-cpu';
    for (const model of CPU_MODELS) cpu.append(new Option(model.toUpperCase(), model));
    box.append(field('CPU', cpu));
  }
}

// ---- Booting ----------------------------------------------------------------------------
/** Why a spec cannot boot, as one sentence for the page's message box. */
class NotBootable extends Error {}
const fail = (text: string): never => {
  throw new NotBootable(text.endsWith('.') ? text : `${text}.`);
};

async function picked(id: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  const file = ($(id) as HTMLInputElement | null)?.files?.[0];
  return file ? { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) } : null;
}

/** An address field: blank is undefined. */
function address(id: string, label: string): number | undefined {
  const text = (($(id) as HTMLInputElement | null)?.value ?? '').trim();
  if (!text) return undefined;
  const t = text.replace(/^\$|^0x/i, '');
  if (!/^[0-9a-f]{1,4}$/i.test(t)) fail(`${label}: "${text}" is not an address (such as $C000)`);
  return parseInt(t, 16);
}

/** The VM spec the form describes, checked: its files are the sizes the machine takes, and it can start. */
export async function specFromForm(form: MachineForm): Promise<{ label: string; spec: VmSpec }> {
  const m = form.name;
  const spec: VmSpec = { machine: m };
  const roms = [];
  for (const n of form.roms) {
    const file = await picked(romId(n));
    if (!file) fail(`The ${m} machine needs ${needText(n)}: pick its file`);
    else if (file.bytes.length !== n.end - n.start + 1) fail(`${file.name} is ${sizeText(file.bytes.length)}: the ${m} machine takes ${needText(n)}`);
    else roms.push({ address: n.start, image: file.bytes });
  }
  if (roms.length) spec.roms = roms;
  const program = await picked('machine-program');
  if (!program) {
    if (form.programFills) fail(`The ${m} machine needs its ROM, ${needText(form.programFills)}: pick its file`);
    if (form.programRequired) fail(`The ${m} machine needs a program: pick its file`);
  } else {
    const sim65 = isSim65(program.bytes);
    if (form.format === 'sim65' && !sim65) fail(`${program.name} is not a cc65 sim65 program (it does not start with "sim65"): the sim65 machine takes programs built with cl65 -t sim6502 or -t sim65c02`);
    if (form.format !== 'sim65' && sim65) fail(`${program.name} is a cc65 sim65 program: boot it on the sim65 machine`);
    const fills = form.programFills;
    if (fills && program.bytes.length !== fills.end - fills.start + 1) fail(`${program.name} is ${sizeText(program.bytes.length)}: the ${m} machine takes ${needText(fills)}`);
    spec.program = program.bytes;
    if (form.format === 'sim65') spec.name = program.name;
  }
  const load = form.loadField ? address('machine-load', 'Load at') : undefined;
  if (load !== undefined) {
    if (!program) fail(`A load address is for a program: pick one, or clear "Load at"`);
    spec.load = load;
  } else if (program && form.loadField && form.address === undefined && form.endsAt === undefined) {
    fail(`The ${m} machine needs the address ${program.name} loads at ("Load at", such as $${hex(0x10000 - Math.min(program.bytes.length, 0x10000))})`);
  }
  const start = form.startField ? address('machine-start', 'Start') : undefined;
  if (start !== undefined) spec.start = start;
  if (form.cpuChoice) spec.cpu = ($('machine-cpu') as HTMLSelectElement).value as CpuModel;

  let built: Checked;
  try {
    built = checkMachine(resolveSpec(spec));
  } catch (err) {
    if (err instanceof DescriptionError) fail(`The ${m} machine cannot be built: ${err.message}`);
    throw err;
  }
  checkStart(built, form, program?.name);
  return { label: program ? `${m} (${program.name})` : m, spec };
}

/** The CPU starts where something was loaded: a program at the wrong address or the wrong file leaves it in empty memory. */
function checkStart(d: Checked, form: MachineForm, program?: string) {
  const images = [...d.memory.flatMap((r) => (r.image ? [{ address: r.start, image: r.image }] : [])), ...d.load];
  const byteAt = (a: number) => {
    let value: number | undefined;
    for (const { address, image } of images) if (a >= address && a < address + image.length) value = image[a - address];
    return value;
  };
  const what = form.programFills ? `: the ${form.name} machine takes ${needText(form.programFills)}` : '';
  if (typeof d.start === 'number') {
    if (byteAt(d.start) === undefined) fail(`Nothing is loaded at the start address $${hex(d.start)}`);
    return;
  }
  const lo = byteAt(0xfffc);
  const hi = byteAt(0xfffd);
  if (lo === undefined || hi === undefined) {
    fail(`Nothing loaded holds the reset vector at $FFFC-$FFFD: ${program ? `load ${program} so that it ends at $FFFF, or give a start address` : 'pick a program'}`);
  }
  const vector = lo! | (hi! << 8);
  if (byteAt(vector) === undefined) fail(`The reset vector points to $${hex(vector)}, where nothing is loaded${program ? `: is ${program} the right file, at the right address` : ''}${what}`);
}

// ---- Wiring -------------------------------------------------------------------------------
export function setUpMachinePicker(options: { boot: (label: string, spec: VmSpec) => Promise<void>; message: (text: string) => void }) {
  const select = $('machine') as HTMLSelectElement;
  for (const name of machineNames()) {
    const title = findMachine(name)?.title ?? '';
    select.append(new Option(`${name}: ${title.split(':')[0]}`, name));
  }
  select.value = machineNames().includes('py65') ? 'py65' : select.options[0].value;
  let form = machineForm(select.value);
  showFields(form);
  select.onchange = () => showFields((form = machineForm(select.value)));
  $('boot').onclick = async () => {
    let boot: { label: string; spec: VmSpec };
    try {
      boot = await specFromForm(form);
    } catch (err) {
      if (err instanceof NotBootable) return options.message(err.message);
      throw err;
    }
    await options.boot(boot.label, boot.spec);
  };
}
