// Node-only parts of the API: running sim65 programs with streams, the file
// sandbox, host files as block storage.
//
// How to drive this:
//   import { runSim65 } from 'hyper6502/node';
//   const { exitCode } = await runSim65(bytes, { args: ['x'], stdin: process.stdin, stdout: process.stdout });

export { runSim65, traceLine, type RunSim65Options, type RunSim65Result } from './profiles/sim65-run.js';
export { SandboxFs } from './profiles/sandbox-fs.js';
export { NodeFileBlockStore } from './devices/storage-file.js';
