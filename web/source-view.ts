// The debugger panel's source view: the program's source files (those its
// debug info names and the page has), the line the PC is on highlighted, and
// a breakpoint set or cleared on a line by a click on it, or by Enter or
// Space: the view is one tab stop, the arrow keys (Page Up/Down, Home, End)
// move between its lines, and it is a listbox whose selected lines are those
// with a breakpoint.
//
// How to drive this:
//   const view = new SourceView($('source-file'), $('source-view'), (file, line) => toggleBreakpoint(file, line));
//   view.show(debug);                     // a program's debug info and sources, or null (none)
//   view.update(session, true);           // the PC's line and the breakpoints; true: show the PC's file, scrolled to it
// Code without a source here (a library's, the sim65 machine's traps) shows
// the line of its nearest caller that has one, marked as a caller.

import type { DebugSession } from '../src/debug/session.js';
import type { ProgramDebugInfo } from './debug-info.js';

interface FileLines {
  /** The lines that have code. */
  code: Set<number>;
  /** Where a line's code starts -> the line. */
  starts: Map<number, number>;
}

export class SourceView {
  private debug: ProgramDebugInfo | null = null;
  /** The session of the last update. */
  private session?: DebugSession;
  private readonly files = new Map<string, FileLines>();
  private file = '';
  private items: HTMLLIElement[] = [];
  private pcLine = 0;
  private pcClass = 'pc';
  private marked = new Set<number>();
  /** The line the keyboard is on (1-based), 0 before the view was used. */
  private cursor = 0;

  constructor(
    private readonly picker: HTMLSelectElement,
    private readonly list: HTMLOListElement,
    private readonly toggle: (file: string, line: number) => void,
  ) {
    picker.addEventListener('change', () => {
      this.render(picker.value);
      if (this.session) this.update(this.session, false);
    });
    list.addEventListener('click', (e) => {
      const li = (e.target as HTMLElement).closest('li');
      if (!li || !this.list.contains(li)) return;
      this.moveCursor(Number(li.dataset.line));
      this.toggle(this.file, this.cursor);
    });
    // Not scrolled: a click focuses the list between its press and its release, which must stay on the same line.
    list.addEventListener('focus', () => {
      if (!this.cursor && this.items.length) this.moveCursor(this.pcLine || Math.min(...(this.files.get(this.file)?.code ?? [1])), false);
    });
    list.addEventListener('keydown', (e) => {
      const page = Math.max(1, Math.floor(this.list.clientHeight / (this.items[0]?.offsetHeight || 16)) - 1);
      const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
      if (e.key in moves) this.moveCursor(Math.min(this.items.length, Math.max(1, (this.cursor || this.pcLine || 1) + moves[e.key])));
      else if ((e.key === 'Enter' || e.key === ' ') && this.cursor) this.toggle(this.file, this.cursor);
      else return;
      e.preventDefault();
    });
  }

  /** The files of a program's debug info that have code, the one its lines come from first (the C before cc65's assembly of it), or none. */
  show(debug: ProgramDebugInfo | null) {
    this.debug = debug;
    this.session = undefined;
    this.files.clear();
    this.picker.innerHTML = '';
    const found: Array<{ file: string; lines: FileLines; own: number }> = [];
    for (const [file, text] of debug?.sources ?? []) {
      const lines: FileLines = { code: new Set(), starts: new Map() };
      const count = text.split('\n').length;
      for (let line = 1; line <= count; line++) {
        const at = debug!.symbols.breakpointAddresses(file, line);
        if (at?.line !== line) continue;
        lines.code.add(line);
        for (const a of at.addresses) lines.starts.set(a, line);
      }
      if (!lines.code.size) continue;
      // How much of its code the debug info gives to this file rather than another.
      const starts = [...lines.starts.keys()];
      found.push({ file, lines, own: starts.filter((a) => debug!.symbols.lineAt(a)?.file === file).length / starts.length });
    }
    for (const { file, lines } of found.sort((a, b) => b.own - a.own)) {
      this.files.set(file, lines);
      this.picker.append(new Option(file, file));
    }
    this.file = '';
    this.items = [];
    this.list.innerHTML = '';
    const first = this.files.keys().next();
    if (!first.done) this.render(first.value);
  }

  /** Is there a source to show? */
  get shown(): boolean {
    return this.files.size > 0;
  }

  /** The line of `file` whose code is at `pc`. */
  private lineOf(file: string, pc: number): number | undefined {
    const at = this.files.get(file)?.starts.get(pc);
    if (at !== undefined) return at;
    const line = this.debug?.symbols.lineAt(pc);
    return line?.file === file ? line.line : undefined;
  }

  private render(file: string) {
    this.file = file;
    this.picker.value = file;
    const code = this.files.get(file)!.code;
    this.list.innerHTML = '';
    this.list.setAttribute('aria-label', `${file}: Enter or Space sets or clears a breakpoint on a line`);
    this.items = this.debug!.sources.get(file)!.replace(/\n$/, '').split('\n').map((text, i) => {
      const li = document.createElement('li');
      li.id = `source-line-${i + 1}`;
      li.dataset.line = String(i + 1);
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      if (code.has(i + 1)) li.className = 'code';
      const number = document.createElement('span');
      number.className = 'number';
      number.textContent = String(i + 1);
      li.append(number, text || ' ');
      return li;
    });
    this.list.append(...this.items);
    this.pcLine = 0;
    this.marked = new Set();
    this.cursor = 0;
    this.list.removeAttribute('aria-activedescendant');
  }

  private moveCursor(line: number, scroll = true) {
    this.items[this.cursor - 1]?.classList.remove('cursor');
    this.cursor = line;
    const li = this.items[line - 1];
    if (!li) return;
    li.classList.add('cursor');
    this.list.setAttribute('aria-activedescendant', li.id);
    if (scroll) this.scrollTo(li);
  }

  /** Scrolls the list (not the page) so that `li` is in view. */
  private scrollTo(li: HTMLElement, centre = false) {
    const top = li.offsetTop; // the list is positioned: its items' offsets are from its top
    const view = this.list.clientHeight;
    if (centre) this.list.scrollTop = top - view / 2;
    else if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (top + li.offsetHeight > this.list.scrollTop + view) this.list.scrollTop = top + li.offsetHeight - view;
  }

  /** A file of the view with a line at `pc`: the one shown, else the debug info's best, else any. */
  private fileAt(session: DebugSession, pc: number): string | undefined {
    if (this.lineOf(this.file, pc) !== undefined) return this.file;
    const best = session.symbols.lineAt(pc)?.file;
    if (best !== undefined && this.files.has(best)) return best;
    return [...this.files.keys()].find((f) => this.files.get(f)!.starts.has(pc));
  }

  /** Marks the PC's line (or its nearest caller's) and the lines with breakpoints; `follow`: shows the file of that line, scrolled to it. */
  update(session: DebugSession, follow: boolean) {
    if (!this.shown) return;
    this.session = session;
    let pc = session.machine.cpu.pc;
    let caller = false;
    if (this.lineOf(this.file, pc) === undefined && (!follow || this.fileAt(session, pc) === undefined)) {
      const frame = session.stack(16).slice(1).find((f) => (follow ? this.fileAt(session, f.pc) : this.lineOf(this.file, f.pc)) !== undefined);
      if (frame) [pc, caller] = [frame.pc, true];
    }
    if (follow) {
      const file = this.fileAt(session, pc);
      if (file !== undefined && file !== this.file) this.render(file);
    }
    const marks = new Set<number>();
    for (const b of session.breakpointList()) {
      if (b.source?.file === this.file) marks.add(b.source.line);
      else for (const a of b.addresses) {
        const line = this.files.get(this.file)!.starts.get(a);
        if (line !== undefined) marks.add(line);
      }
    }
    for (const line of new Set([...marks, ...this.marked])) this.items[line - 1]?.setAttribute('aria-selected', String(marks.has(line)));
    this.marked = marks;
    const line = this.lineOf(this.file, pc) ?? 0;
    const pcClass = caller ? 'caller' : 'pc';
    if (line !== this.pcLine || pcClass !== this.pcClass) {
      const old = this.items[this.pcLine - 1];
      old?.classList.remove(this.pcClass);
      old?.removeAttribute('aria-current');
      this.pcLine = line;
      this.pcClass = pcClass;
      const li = this.items[line - 1];
      li?.classList.add(pcClass);
      li?.setAttribute('aria-current', 'step');
    }
    if (follow && this.items[line - 1]) this.scrollTo(this.items[line - 1], true);
  }
}
