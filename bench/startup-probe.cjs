// Preloaded (node --require) into the processes bench/startup.bench.ts times:
// prints, when the process exits, how many milliseconds after the process
// started hyper6502 first ran guest code (the mark src/core/cpu.ts sets), as
// one line on stderr: `hyper6502-startup {"firstRunMs":12.3}`.
'use strict';
process.on('exit', () => {
  const mark = performance.getEntriesByName('hyper6502:first-run')[0];
  process.stderr.write(`hyper6502-startup ${JSON.stringify({ firstRunMs: mark ? mark.startTime : null })}\n`);
});
