// The demo page in real Chromium (Debian's chromium, driven by playwright-core):
// it loads, programs run and draw, the terminal talks, the debugger steps,
// snapshots round-trip through files, sixteen VMs run in Web Workers, a
// corrupt snapshot gets a clear message, and the built-in machines boot from
// files picked in the page (third-party guests from ../shared/guests, read
// where they are), with the LCD, the terminal, and idle guests that cost
// nothing. The page is built afresh for the tests (scripts/build-web.ts
// --demo), and no test may leave an error in the page. A screenshot of each
// state is saved in test-artifacts/.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { startServer } from '../../src/cli/serve.ts';
import { EASY6502_PALETTE } from '../../src/devices/display.ts';
import { machineNames, findMachine } from '../../src/machine/description.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { guestsDir, guestsPath, guestsSkipReason } from '../helpers/guests.ts';
import { chromiumMissing, launchChromium, watchedPage } from '../helpers/chromium.ts';

const missing = chromiumMissing;
if (missing) console.warn(`SKIPPED the browser tests: ${missing}`);

const repo = join(import.meta.dirname, '../..');
const artifacts = join(repo, 'test-artifacts');
const demoDir = mkdtempSync(join(tmpdir(), 'hyper6502-demo-'));
let browser: Browser;
let page: Page;
let close: () => void;
let baseUrl: string;
/** Errors the page threw or logged, since the last test ended. */
const errors: string[] = [];

beforeAll(async () => {
  if (missing) return;
  // The page as the sources say it now, not a dist/ left from an earlier build.
  execFileSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'scripts/build-web.ts'), '--demo', demoDir], { stdio: 'pipe' });
  const { server, url } = await startServer({ port: 0, dir: demoDir });
  close = () => server.close();
  baseUrl = url;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => (window as any).demo?.machine);
  expect(errors.splice(0)).toEqual([]);
  mkdirSync(artifacts, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  close?.();
  rmSync(demoDir, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

const cyan = () => 4;

/** The easy6502 canvas as palette indexes (32 x 32). */
async function screenIndexes(): Promise<number[]> {
  const rgba: number[] = await page.evaluate(() => {
    const c = document.querySelector('.hyper6502-screen') as HTMLCanvasElement;
    return [...c.getContext('2d')!.getImageData(0, 0, 32, 32).data];
  });
  const out = [];
  for (let i = 0; i < rgba.length; i += 4) out.push(EASY6502_PALETTE.indexOf((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]));
  return out;
}

describe.skipIf(missing)(`the demo page in Chromium${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  afterEach(() => {
    expect(errors.splice(0)).toEqual([]); // nothing went wrong in the page during the test
  });

  it('runs the colour bars: the canvas shows 2-pixel bars in consecutive colours', async () => {
    // Real time: about 1 MHz once the first second has passed.
    await page.waitForFunction(() => /1\.0\d MHz|0\.9\d MHz/.test(document.getElementById('stats')!.textContent ?? ''), undefined, { polling: 100, timeout: 10_000 }).catch(async () => {
      throw new Error(`the colour bars do not run at about 1 MHz: ${await page.locator('#stats').textContent()}`);
    });
    // Stop between two frames (in the program's delay loop at the end of a frame), so that no row is half drawn.
    await page.evaluate(() => {
      const em = (window as any).demo.machine;
      em.pause();
      for (let i = 0; i < 200_000 && !(em.machine.cpu.pc >= 0x0644 && em.machine.cpu.pc <= 0x064e); i++) em.step();
      em.draw();
    });
    const px = await screenIndexes();
    expect(px.every((c) => c >= 0)).toBe(true); // only palette colours
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x += 2) {
        expect(px[y * 32 + x + 1]).toBe(px[y * 32 + x]);
        expect(px[y * 32 + x]).toBe((px[y * 32] + x / 2) & 15);
      }
    }
    await shot('1-colour-bars');
    await page.click('#run'); // running again
  });

  it('the debugger steps and shows the registers the machine has', async () => {
    await page.click('#run'); // pause
    const before = await page.evaluate(() => (window as any).demo.machine.debugger.registers());
    await page.click('#step');
    const after = await page.evaluate(() => (window as any).demo.machine.debugger.registers());
    expect(after.instructions).toBe(before.instructions + 1);
    const hex = (n: number, d: number) => n.toString(16).toUpperCase().padStart(d, '0');
    expect(await page.locator('#registers').textContent()).toContain(`PC=${hex(after.pc, 4)} A=${hex(after.a, 2)} X=${hex(after.x, 2)} Y=${hex(after.y, 2)}`);
    expect(await page.locator('#disassembly .pc').textContent()).toMatch(new RegExp(`^${hex(after.pc, 4)} `));
    await shot('2-debugger-step');
  });

  it('a snapshot saved to a file and loaded back continues exactly as the machine did', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const file = join(tmpdir(), `hyper6502-${Date.now()}.hyp6502`);
    await download.saveAs(file);
    const run = () =>
      page.evaluate(() => {
        const m = (window as any).demo.machine;
        m.host.runUntil(m.host.ids()[0], m.machine.cpu.cycles + 100_000);
        const ram = m.machine.cpu.ram as Uint8Array;
        let sum = 0;
        for (let i = 0; i < ram.length; i++) sum = (sum * 31 + ram[i]) >>> 0;
        return { regs: m.debugger.registers(), sum };
      });
    const first = await run();
    await page.setInputFiles('#load', file);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden);
    expect(await page.locator('#message').textContent()).toMatch(/Restored the snapshot/);
    const second = await run();
    expect(second).toEqual(first);
    await shot('3-snapshot-restored');
  });

  it('autosaves to IndexedDB and offers the autosave after a reload', async () => {
    await page.click('#run'); // running (autosave only saves a running machine)
    await page.waitForTimeout(5600); // the page autosaves every 5 seconds
    await page.reload();
    await page.waitForFunction(() => (window as any).demo?.machine);
    await page.waitForFunction(() => !document.getElementById('restore-autosave')!.hidden, undefined, { polling: 100 });
    await page.click('#restore-autosave');
    await page.waitForFunction(() => /Restored the snapshot from the autosave/.test(document.getElementById('message')!.textContent ?? ''), undefined, { polling: 100 });
    expect(await page.evaluate(() => (window as any).demo.machine.debugger.registers().cycles)).toBeGreaterThan(1_000_000);
  });

  it('a corrupt snapshot gets a message that names the problem, and nothing breaks', async () => {
    const bad = join(tmpdir(), 'corrupt.hyp6502');
    writeFileSync(bad, new Uint8Array(5000).fill(7));
    await page.setInputFiles('#load', bad);
    await page.waitForFunction(() => /rejected/.test(document.getElementById('message')!.textContent ?? ''));
    expect(await page.locator('#message').textContent()).toMatch(/corrupt\.hyp6502 was rejected: this is not a hyper6502 snapshot/);
    expect(await page.evaluate(() => (window as any).demo.machine.debugger.registers().pc)).toBeGreaterThan(0);
    await shot('4-corrupt-snapshot');
  });

  it('the cc65 program talks over the terminal', async () => {
    await page.selectOption('#program', 'hello');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('What is your name?'));
    await page.locator('.xterm').click();
    await page.keyboard.type('Ada');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('Goodbye, Ada.'));
    const text = (await page.evaluate(() => (window as any).demo.terminalText())).join('\n');
    expect(text).toMatch(/What is your name\? Ada/);
    expect(text).toMatch(/Hello, Ada!/);
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    await shot('5-terminal');
  });

  it('the board example runs VIA interrupts and echoes what is typed on its terminal', async () => {
    await page.selectOption('#program', 'timer');
    await page.selectOption('#speed', 'max');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('tick 2'), undefined, { polling: 100 });
    await page.selectOption('#speed', '1000000');
    await page.locator('.xterm').click();
    await page.keyboard.type('hello');
    // The echo, with any tick line the interrupt handler printed in between taken out.
    await page.waitForFunction(() => (window as any).demo.terminalText().join('').replace(/tick \d+/g, '').includes('hello'), undefined, { polling: 100 });
    expect((await page.evaluate(() => (window as any).demo.terminalText())).join('\n')).toMatch(/hyper6502 board: a tick a second at 1 MHz/);
    await shot('6-board-timer');
  });

  it('a file that is not a program gets a clear message; a .bin or .s file runs', async () => {
    const dir = tmpdir();
    writeFileSync(join(dir, 'photo.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    const messageMatches = (re: RegExp) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById('message')!.textContent ?? ''), re.source, { polling: 50 });
    await page.setInputFiles('#load-program', join(dir, 'photo.png'));
    await messageMatches(/photo\.png is not a program this page runs/);
    writeFileSync(join(dir, 'fake.prg'), new TextEncoder().encode('not really a program'));
    await page.setInputFiles('#load-program', join(dir, 'fake.prg'));
    await messageMatches(/fake\.prg is not a cc65 sim65 program/);
    writeFileSync(join(dir, 'pixel.bin'), Uint8Array.from([0xa9, 0x07, 0x8d, 0x00, 0x02, 0x00])); // LDA #7; STA $0200; BRK
    await page.setInputFiles('#load-program', join(dir, 'pixel.bin'));
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    expect((await screenIndexes())[0]).toBe(7);
    await shot('7-bad-program-file');
  });

  it('an assembly error shows at its line; a good program runs', async () => {
    await page.fill('#source', '  .org $0600\n  lda #1\n  bogus\n  sta $0200\n');
    await page.click('#assemble');
    expect(await page.locator('#asm-errors li').first().textContent()).toMatch(/^line 3, column 3: /);
    await page.fill('#source', '  .org $0600\n  lda #5\n  sta $0200\n  brk\n');
    await page.click('#assemble');
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    expect((await screenIndexes())[0]).toBe(5);
    await shot('8-editor');
  });

  it('the editor assembles a project of several files, in the easy6502 dialect', async () => {
    const dir = join(tmpdir(), `hyper6502-project-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'colours.inc'), 'define cyan $03\n');
    writeFileSync(join(dir, 'pixel.bin'), new Uint8Array([cyan()]));
    await page.setInputFiles('#project-files', [join(dir, 'colours.inc'), join(dir, 'pixel.bin')]);
    await page.waitForFunction(() => document.getElementById('project-list')!.textContent === 'Project files: colours.inc, pixel.bin');
    await page.fill('#source', ' .include "colours.inc"\n lda #cyan\n sta $0200\n lda data\n sta $0201\n brk\ndata:\n .incbin "pixel.bin"\n dcb 0\n');
    await page.click('#assemble');
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    expect((await screenIndexes()).slice(0, 2)).toEqual([3, 4]);
    await page.fill('#source', ' .include "colours.inc"\n .include "missing.inc"\n');
    await page.click('#assemble');
    expect(await page.locator('#asm-errors li').first().textContent()).toMatch(/^line 2, column 11: cannot read "missing.inc"/);
  });

  it('sixteen VMs run side by side in Web Workers, each with its live screen', async () => {
    await page.click('#grid-start');
    await page.waitForFunction(() => /frames a second, 16 VMs/.test(document.getElementById('grid-stats')!.textContent ?? ''), undefined, { timeout: 20_000 });
    await page.waitForTimeout(1500);
    const lit = await page.evaluate(() =>
      [...document.querySelectorAll('#grid canvas')].map((c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 32, 32).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] | d[i + 1] | d[i + 2]) n++;
        return n;
      }),
    );
    expect(lit).toHaveLength(16);
    for (const n of lit) expect(n).toBeGreaterThan(300); // the bars are drawn
    const fps = Number((await page.locator('#grid-stats').textContent())!.split(' ')[0]);
    expect(fps).toBeGreaterThan(5);
    await shot('9-sixteen-vms');
    await page.click('#grid-start');
  });

  // ---- Built-in machines, booted from the visitor's files ----------------------------------

  it('the machine picker offers every built-in machine, each asking for what it needs', async () => {
    const offered = await page.$$eval('#machine option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    expect(offered.map(([value]) => value)).toEqual(machineNames());
    for (const [value, text] of offered) expect(text).toBe(`${value}: ${findMachine(value!)!.title!.split(':')[0]}`);
    const fields = async (machine: string) => {
      await page.selectOption('#machine', machine);
      return page.evaluate(() => ({
        title: document.getElementById('machine-title')!.textContent,
        fields: [...document.querySelectorAll('#machine-fields label')].map((l) => `${l.textContent!.trim()} [${[...l.querySelectorAll('input, select')].map((c) => (c as HTMLInputElement).type + ':' + c.id).join()}]`),
      }));
    };
    expect(await fields('py65')).toEqual({
      title: findMachine('py65')!.title,
      fields: ['Program [file:machine-program]', 'Load at [text:machine-load]', 'Start [text:machine-start]', 'CPU 650265C02R65C02 [select-one:machine-cpu]'],
    });
    expect((await fields('apple1')).fields).toEqual(['the Woz Monitor ROM, 256 bytes for $FF00-$FFFF [file:machine-rom-ff00]', 'Program (optional) [file:machine-program]', 'Load at [text:machine-load]']);
    expect((await fields('eater')).fields).toEqual(["ROM: a ROM image (Ben Eater's 32 KiB Wozmon + BASIC: eater.bin), 32 KiB for $8000-$FFFF [file:machine-program]"]);
    expect((await fields('sim65')).fields).toEqual(['Program (cl65 -t sim6502 or sim65c02) [file:machine-program]']);
    // The load address follows the program's size: a 16 KiB image ends at $FFFF, where its vectors are.
    await page.selectOption('#machine', 'py65');
    const dir = tmpdir();
    for (const [size, at] of [[0x4000, '$C000'], [0x8000, '$8000'], [0x100, '$FF00']] as const) {
      writeFileSync(join(dir, `image-${size}.bin`), new Uint8Array(size));
      await page.setInputFiles('#machine-program', join(dir, `image-${size}.bin`));
      expect(await page.inputValue('#machine-load')).toBe(at);
    }
    await page.selectOption('#machine', 'apple1');
    writeFileSync(join(dir, 'basic.bin'), new Uint8Array(0x1000));
    await page.setInputFiles('#machine-program', join(dir, 'basic.bin'));
    expect(await page.inputValue('#machine-load')).toBe('$E000'); // where the Apple 1 has 4 KiB of RAM for it
  });

  it('a missing, wrong-size or wrong file gets one sentence saying what the machine takes, and the machine that runs goes on', async () => {
    const dir = tmpdir();
    const file = (name: string, bytes: Uint8Array) => (writeFileSync(join(dir, name), bytes), join(dir, name));
    await page.selectOption('#program', 'pixels');
    await page.waitForFunction(() => (window as any).demo.machine?.isRunning);
    const before = await page.evaluate(() => (window as any).demo.machine.description.name);
    const says = async (text: string) => {
      await page.click('#boot');
      await page.waitForFunction((t) => document.getElementById('message')!.textContent === t, text, { polling: 50, timeout: 5000 }).catch(() => {});
      expect(await page.locator('#message').textContent()).toBe(text);
    };
    await page.selectOption('#machine', 'eater');
    await says("The eater machine needs its ROM, a ROM image (Ben Eater's 32 KiB Wozmon + BASIC: eater.bin), 32 KiB for $8000-$FFFF: pick its file.");
    await page.setInputFiles('#machine-program', file('half.bin', new Uint8Array(0x4000)));
    await says("half.bin is 16 KiB: the eater machine takes a ROM image (Ben Eater's 32 KiB Wozmon + BASIC: eater.bin), 32 KiB for $8000-$FFFF.");
    const noVector = new Uint8Array(0x8000); // its reset vector points to $0000, in RAM that nothing filled
    await page.setInputFiles('#machine-program', file('blank.bin', noVector));
    await says("The reset vector points to $0000, where nothing is loaded: is blank.bin the right file, at the right address: the eater machine takes a ROM image (Ben Eater's 32 KiB Wozmon + BASIC: eater.bin), 32 KiB for $8000-$FFFF.");
    await page.selectOption('#machine', 'apple1');
    await says('The apple1 machine needs the Woz Monitor ROM, 256 bytes for $FF00-$FFFF: pick its file.');
    await page.setInputFiles('#machine-rom-ff00', file('photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47])));
    await says('photo.png is 4 bytes: the apple1 machine takes the Woz Monitor ROM, 256 bytes for $FF00-$FFFF.');
    await page.selectOption('#machine', 'py65');
    await says('The py65 machine needs a program: pick its file.');
    await page.setInputFiles('#machine-program', file('low.bin', new Uint8Array(0x4000)));
    await page.fill('#machine-load', '$8000');
    await says('Nothing loaded holds the reset vector at $FFFC-$FFFD: load low.bin so that it ends at $FFFF, or give a start address.');
    await page.fill('#machine-load', '$D000');
    await says('The py65 machine cannot be built: program: 16384 bytes at $D000 run past $FFFF (to $10FFF).');
    await page.fill('#machine-load', 'C000h');
    await says('Load at: "C000h" is not an address (such as $C000).');
    await page.setInputFiles('#machine-program', join(import.meta.dirname, '../../examples/hello.prg'));
    await says('hello.prg is a cc65 sim65 program: boot it on the sim65 machine.');
    await page.selectOption('#machine', 'sim65');
    await page.setInputFiles('#machine-program', file('low.bin', new Uint8Array(0x4000)));
    await says('low.bin is not a cc65 sim65 program (it does not start with "sim65"): the sim65 machine takes programs built with cl65 -t sim6502 or -t sim65c02.');
    expect(await page.evaluate(() => (window as any).demo.machine.description.name)).toBe(before);
    expect(await page.evaluate(() => (window as any).demo.machine.isRunning)).toBe(true);
  });

  it("draws the LCD of Ben Eater's computer as a 16x2 panel, and its terminal echoes what is typed onto the LCD; a guest waiting for a key shows as idle", async () => {
    const rom = join(tmpdir(), 'lcd-demo.bin');
    writeFileSync(rom, EATER_ROM);
    await page.selectOption('#machine', 'eater');
    await page.setInputFiles('#machine-program', rom);
    await page.click('#boot');
    const lcd = () => page.evaluate(() => document.querySelector('.hyper6502-lcd')?.textContent ?? '');
    await page.waitForFunction(() => /HELLO, WORLD/.test(document.querySelector('.hyper6502-lcd')?.textContent ?? ''), undefined, { polling: 50 });
    await waitIdle();
    expect(await lcd()).toBe('HELLO, WORLD    \n>               ');
    expect(await page.locator('#stats').textContent()).toMatch(/idle \(waiting for input\)$/);
    // Styled as the panel: monospace, exactly 16 columns wide, a coloured panel, and a terminal beside it.
    const look = await page.evaluate(() => {
      const pre = document.querySelector('.hyper6502-lcd') as HTMLElement;
      const style = getComputedStyle(pre);
      const probe = document.createElement('span');
      probe.textContent = '0123456789ABCDEF';
      probe.style.font = style.font;
      document.body.append(probe);
      const text = probe.getBoundingClientRect().width;
      probe.remove();
      return { font: style.fontFamily, background: style.backgroundColor, contentWidth: pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight), text, terminal: !!document.querySelector('#emu .xterm') };
    });
    expect(look.font).toMatch(/monospace/);
    expect(look.background).not.toMatch(/rgba\(0, 0, 0, 0\)|rgb\(255, 255, 255\)/);
    expect(Math.abs(look.contentWidth - look.text)).toBeLessThan(2); // 16 characters fill it
    expect(look.terminal).toBe(true);
    await page.locator('.xterm').click();
    await page.keyboard.type('Hi 6502');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('Hi 6502'), undefined, { polling: 50 });
    await page.waitForFunction(() => /> Hi 6502/.test(document.querySelector('.hyper6502-lcd')?.textContent ?? ''), undefined, { polling: 50 });
    await waitIdle();
    expect(await lcd()).toBe('HELLO, WORLD    \n> Hi 6502       ');
    await shot('10-eater-lcd');
  });

  it('a guest waiting for input costs the page next to nothing, in real time and at max speed, against the same guest busy', async () => {
    const rom = join(tmpdir(), 'lcd-demo.bin');
    writeFileSync(rom, EATER_ROM);
    const figures: string[] = [];
    for (const speed of ['1000000', 'max']) {
      await page.selectOption('#speed', speed);
      await page.selectOption('#machine', 'eater');
      await page.setInputFiles('#machine-program', rom);
      await page.click('#boot');
      await waitIdle();
      await waitAutosaved();
      const idle = await mainThreadIdle();
      expect(await page.evaluate(() => (window as any).demo.machine.idle)).toBe(true);
      await page.locator('.xterm').click();
      await page.keyboard.type('!'); // the ROM's busy loop: it counts in memory for ever
      await page.waitForFunction(() => !(window as any).demo.machine.idle && /MHz$/.test(document.getElementById('stats')!.textContent ?? ''), undefined, { polling: 50 });
      const busy = await mainThreadBusy();
      figures.push(`${speed === 'max' ? 'max speed' : '1 MHz'}: idle ${(idle * 100).toFixed(2)}% of a core, busy ${(busy * 100).toFixed(2)}%, ratio ${(idle / busy).toFixed(4)}`);
      console.log(figures.at(-1));
      expect(idle / busy).toBeLessThan(0.1);
    }
    console.log(`main thread while a guest waits for input vs while it runs: ${figures.join('; ')}`);
    await page.selectOption('#speed', '1000000');
  });

  it.skipIf(!guestsDir())(`EhBASIC boots on py65 from its file, answers PRINT 6*7, and idles at its prompt${guestsDir() ? '' : ` (${guestsSkipReason})`}`, async () => {
    await page.selectOption('#machine', 'py65');
    await page.setInputFiles('#machine-program', join(guestsPath, 'ehbasic/ehbasic.bin'));
    expect(await page.inputValue('#machine-load')).toBe('$C000');
    await page.click('#boot');
    await terminalShows(/\[C\]old\/\[W\]arm \?/);
    await page.locator('.xterm').click();
    await page.keyboard.type('C');
    await page.keyboard.press('Enter');
    await terminalShows(/Memory size \?/);
    await page.keyboard.press('Enter');
    await terminalShows(/48383 Bytes free[^]*Enhanced BASIC 2\.22p5[^]*Ready/);
    await waitIdle();
    await page.keyboard.type('PRINT 6*7');
    await page.keyboard.press('Enter');
    await terminalShows(/PRINT 6\*7\n 42\n\nReady$/);
    await waitIdle();
    expect(await page.locator('#stats').textContent()).toMatch(/idle \(waiting for input\)$/);
    await waitAutosaved();
    const idle = await mainThreadIdle();
    await page.keyboard.type('10 I=I+1: GOTO 10'); // (10 GOTO 10 alone changes nothing: it is found idle, rightly)
    await page.keyboard.press('Enter');
    await page.keyboard.type('RUN');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !(window as any).demo.machine.idle, undefined, { polling: 50 });
    const busy = await mainThreadBusy();
    console.log(`EhBASIC in real time: main thread ${(idle * 100).toFixed(2)}% of a core at its prompt, ${(busy * 100).toFixed(2)}% running a loop (ratio ${(idle / busy).toFixed(4)})`);
    expect(idle / busy).toBeLessThan(0.1);
    await shot('11-ehbasic');
  });

  it.skipIf(!guestsDir())(`Wozmon and Apple 1 BASIC boot on apple1 from their files: E000R starts BASIC, which runs a line, then idles${guestsDir() ? '' : ` (${guestsSkipReason})`}`, async () => {
    await page.selectOption('#machine', 'apple1');
    await page.setInputFiles('#machine-rom-ff00', join(guestsPath, 'apple1/wozmon.bin'));
    await page.setInputFiles('#machine-program', join(guestsPath, 'apple1/a1basic.bin'));
    expect(await page.inputValue('#machine-load')).toBe('$E000');
    await page.click('#boot');
    await terminalShows(/^\\$/);
    await waitIdle();
    await page.locator('.xterm').click();
    await page.keyboard.type('e000r'); // the machine types upper case
    await page.keyboard.press('Enter');
    await terminalShows(/E000R\n\nE000: 4C\n>$/);
    await waitIdle();
    for (const line of ['10 FOR I=1 TO 3: PRINT I*I: NEXT I', '20 END']) {
      await page.keyboard.type(line);
      await page.keyboard.press('Enter');
    }
    await page.keyboard.type('RUN');
    await page.keyboard.press('Enter');
    await terminalShows(/RUN\n1\n4\n9\n+>$/);
    await waitIdle();
    expect(await page.locator('#stats').textContent()).toMatch(/idle \(waiting for input\)$/);
    await shot('12-apple1');
  });

  it('the machine picker and the LCD fit a 390-pixel-wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const rom = join(tmpdir(), 'lcd-demo.bin');
    writeFileSync(rom, EATER_ROM);
    await page.selectOption('#machine', 'eater');
    await page.setInputFiles('#machine-program', rom);
    await page.click('#boot');
    await page.waitForFunction(() => /HELLO/.test(document.querySelector('.hyper6502-lcd')?.textContent ?? ''), undefined, { polling: 50 });
    for (const machine of ['eater', 'apple1', 'py65']) {
      await page.selectOption('#machine', machine);
      const boxes = await page.evaluate(() =>
        ['#machine-picker', '.toolbar', '.hyper6502-lcd', '.hyper6502-terminal', ...[...document.querySelectorAll('#machine-picker label, #machine-picker button')].map((_, i) => `#machine-picker :is(label, button) >> ${i}`)].flatMap((sel) => {
          const [css, nth] = sel.split(' >> ');
          const el = nth === undefined ? document.querySelector(css) : document.querySelectorAll(css)[Number(nth)];
          if (!el) return [];
          const r = el.getBoundingClientRect();
          return [{ sel, left: r.left, right: r.right, scroll: el.scrollWidth - el.clientWidth }];
        }),
      );
      for (const b of boxes) {
        expect(b.left, b.sel).toBeGreaterThanOrEqual(0);
        expect(b.right, `${machine}: ${b.sel}`).toBeLessThanOrEqual(390);
      }
    }
    await shot('13-narrow');
    await page.setViewportSize({ width: 1280, height: 1000 });
  });
});

describe.skipIf(missing)(`the demo page on a phone (390 px, touch)${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let phone: Page;
  let phoneErrors: string[] = [];
  beforeAll(async () => {
    let errors: string[];
    ({ page: phone, errors } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }));
    phoneErrors = errors;
    await phone.goto(baseUrl);
    await phone.waitForFunction(() => (window as any).demo?.machine);
  });
  afterEach(() => {
    expect(phoneErrors.splice(0)).toEqual([]);
  });

  /** Whatever is wider than the screen: the page itself, or a box that reaches past its right edge. */
  const overflow = () =>
    phone.evaluate(() => {
      const past = [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 0.5).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`);
      return { page: document.documentElement.scrollWidth, past: past.slice(0, 5) };
    });

  it('every example fits the screen, the terminal included, and so do the sixteen VMs', async () => {
    for (const [program, machine] of [['pixels', 'easy6502'], ['hello', 'sim65'], ['timer', 'board']]) {
      await phone.selectOption('#program', program);
      await phone.waitForFunction((m) => { try { return (window as any).demo.machine.description.name === m; } catch { return false; } }, machine);
      await phone.waitForTimeout(300);
      expect(await overflow(), program).toEqual({ page: 390, past: [] });
    }
    const term = await phone.locator('.xterm-screen').boundingBox();
    expect(term!.x + term!.width).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(artifacts, '14-phone-terminal.png'), fullPage: true });
    await phone.click('#grid-start');
    await phone.waitForFunction(() => document.querySelectorAll('#grid canvas').length === 16);
    expect(await overflow()).toEqual({ page: 390, past: [] });
    await phone.click('#grid-start'); // stop
    await phone.selectOption('#program', 'pixels');
    await phone.waitForFunction(() => { try { return (window as any).demo.machine.description.name === 'easy6502'; } catch { return false; } });
    expect(await overflow()).toEqual({ page: 390, past: [] });
    await phone.screenshot({ path: join(artifacts, '15-phone.png'), fullPage: true });
  });

  it('a tap on the screen opens the keyboard, and what is typed reaches the guest', async () => {
    await phone.waitForFunction(() => (window as any).demo.machine?.description.name === 'easy6502');
    await phone.tap('.hyper6502-screen');
    expect(await phone.evaluate(() => document.activeElement?.className)).toBe('hyper6502-touch-input');
    // A phone's keyboard sends text input, not key presses with codes.
    for (const key of ['w', 'd']) {
      await phone.keyboard.insertText(key);
      expect(await phone.evaluate(() => (window as any).demo.machine.machine.cpu.ram[0xff])).toBe(key.charCodeAt(0));
    }
  });

  it('a tap on the terminal opens the keyboard, and the cc65 program reads the line typed', async () => {
    await phone.selectOption('#program', 'hello');
    await phone.waitForFunction(() => /What is your name\?/.test(document.querySelector('.xterm-rows')?.textContent ?? ''));
    await phone.tap('.hyper6502-terminal');
    await phone.keyboard.insertText('Ada');
    await phone.keyboard.press('Enter');
    await phone.waitForFunction(() => /Hello, Ada!/.test(document.querySelector('.xterm-rows')?.textContent ?? ''), undefined, { timeout: 10_000 });
  });
});

/** Waits until the embedded guest sleeps waiting for input. */
async function waitIdle() {
  await page.waitForFunction(() => (window as any).demo.machine.idle && /idle \(waiting for input\)$/.test(document.getElementById('stats')!.textContent ?? ''), undefined, { polling: 50, timeout: 20_000 });
}

/** Waits until the page has autosaved the guest as it is now (once after it went idle; then never again while it sleeps). */
async function waitAutosaved() {
  await page.waitForFunction(() => (window as any).demo.autosavedAt.cycles === (window as any).demo.machine.machine.cpu.cycles, undefined, { polling: 100, timeout: 10_000 });
}

/** Waits until the terminal's text (its lines joined, blank lines at the end dropped) matches. */
async function terminalShows(re: RegExp) {
  const text = () => page.evaluate(() => (window as any).demo.terminalText().join('\n').replace(/\n+$/, ''));
  try {
    await page.waitForFunction((src) => new RegExp(src).test((window as any).demo.terminalText().join('\n').replace(/\n+$/, '')), re.source, { polling: 50, timeout: 20_000 });
  } catch {
    throw new Error(`the terminal does not show ${re}:\n${await text()}`);
  }
}

/** The same, while the guest waits: the lower of two windows, so that a one-off (a garbage collection) does not count; work the page does periodically shows in both. */
async function mainThreadIdle(): Promise<number> {
  return Math.min(await mainThreadBusy(), await mainThreadBusy());
}

/** The share of one core the page's main thread spent in tasks over 2 seconds (Chromium's own count: CDP Performance.getMetrics, TaskDuration). */
async function mainThreadBusy(ms = 2000): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')!.value;
  const t0 = Date.now();
  const before = await taskSeconds();
  await new Promise((r) => setTimeout(r, ms));
  const after = await taskSeconds();
  const wall = (Date.now() - t0) / 1000;
  await cdp.detach();
  return (after - before) / wall;
}

/**
 * A ROM for Ben Eater's computer: the LCD in 4-bit mode (his wiring) says
 * HELLO, WORLD and "> " on its second line; then every byte that comes over
 * the 6551 is echoed to the serial line and onto the LCD, except "!", which
 * starts a busy loop that counts in memory for ever.
 */
const EATER_ROM = (() => {
  const r = assemble(
    `
  .setcpu "65C02"
PORTB = $6000
PORTA = $6001
DDRB  = $6002
DDRA  = $6003
E  = %01000000
RW = %00100000
RS = %00010000
ACIA_DATA = $5000
ACIA_STATUS = $5001
ACIA_CMD = $5002
ACIA_CTRL = $5003
  .org $8000
reset:  ldx #$ff
        txs
        lda #$01
        sta DDRA            ; PA0: the 6551's RTS
        stz PORTA           ; low: the line may send
        lda #$ff
        sta DDRB
        lda #%00000011      ; 8-bit mode three times, then 4-bit
        jsr nibble
        lda #%00000011
        jsr nibble
        lda #%00000011
        jsr nibble
        lda #%00000010
        jsr nibble
        lda #%00101000      ; 4-bit, 2 lines
        jsr command
        lda #%00001100      ; display on
        jsr command
        lda #%00000110      ; increment
        jsr command
        lda #%00000001      ; clear
        jsr command
        ldx #0
hello:  lda msg,x
        beq line2
        jsr data
        inx
        bra hello
line2:  lda #$C0            ; the second line
        jsr command
        lda #'>'
        jsr data
        lda #' '
        jsr data
        lda #$1F            ; 19200 baud, 8 bits
        sta ACIA_CTRL
        lda #$0B            ; no parity, no interrupts, DTR
        sta ACIA_CMD
main:   lda ACIA_STATUS
        and #$08            ; a byte received?
        beq main
        lda ACIA_DATA
        cmp #'!'
        beq spin
        sta ACIA_DATA
        jsr data
        bra main
spin:   inc $10
        bne spin
        inc $11
        bra spin
nibble: sta PORTB            ; E high, then low: the LCD takes the nibble (and RS) on the falling edge
        ora #E
        sta PORTB
        eor #E
        sta PORTB
        rts
command: pha
        lsr
        lsr
        lsr
        lsr
        jsr nibble
        pla
        and #%00001111
        jsr nibble
        rts
data:   pha
        lsr
        lsr
        lsr
        lsr
        ora #RS
        jsr nibble
        pla
        and #%00001111
        ora #RS
        jsr nibble
        rts
msg:    .asciiz "HELLO, WORLD"
  .res $FFFA - *, $EA
  .word reset, reset, reset
`,
    { cpu: '65c02', fileName: 'lcd-demo.s' },
  );
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r.bytes;
})();
