// The cc65 test programs: how each is built and run. scripts/build-programs.ts
// builds them (the .prg files next to their sources) and records what sim65
// does with them in expected.json; test/sim65/programs.test.ts runs them on
// hyper6502 and compares.

export interface TestProgram {
  name: string;
  source: string;
  target: 'sim6502' | 'sim65c02';
  args?: string[];
  stdin?: string;
  /** Runs in a fresh directory it may create files in. */
  files?: boolean;
  /** sim65 does not sandbox files, so a program that tries to escape is not run on it. */
  sim65?: false;
}

export const PROGRAMS: TestProgram[] = [
  { name: 'printf', source: 'printf.c', target: 'sim6502' },
  { name: 'recursion', source: 'recursion.c', target: 'sim6502' },
  { name: 'long32', source: 'long32.c', target: 'sim6502' },
  { name: 'qsort', source: 'qsort.c', target: 'sim6502' },
  { name: 'stdin', source: 'stdin.c', target: 'sim6502', stdin: 'hello world\nthe quick brown fox\n  jumps over\n' },
  { name: 'args', source: 'args.c', target: 'sim6502', args: ['one', 'two words', '', '--not-an-option'] },
  { name: 'exitcode', source: 'exitcode.c', target: 'sim6502' },
  { name: 'fileio', source: 'fileio.c', target: 'sim6502', files: true },
  { name: 'escape', source: 'escape.c', target: 'sim6502', files: true, sim65: false },
  { name: 'cmos', source: 'cmos.c', target: 'sim65c02' },
  { name: 'sieve', source: 'sieve.c', target: 'sim6502' },
  { name: 'hello', source: 'hello.s', target: 'sim6502' },
  { name: 'newcalls', source: 'newcalls.s', target: 'sim6502', files: true, sim65: false },
  // sim65 2.19 has no lseek ($FFF1), nor a quota or a sandbox to race.
  { name: 'seek32', source: 'seek32.c', target: 'sim6502', files: true, sim65: false },
  { name: 'fill', source: 'fill.c', target: 'sim6502', files: true, sim65: false },
  { name: 'race', source: 'race.c', target: 'sim6502', files: true, sim65: false },
];
