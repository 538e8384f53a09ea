// Node-only parts of the API: running machines and sim65 programs with
// streams, the file sandbox, host files as block storage, machine
// descriptions from JSON files.
//
// How to drive this:
//   import { runMachine, runSim65, loadMachineFile } from 'hyper6502/node';
//   await runMachine({ machine: 'py65', program: bytes, load: 0xc000 }, { stdin: process.stdin, stdout: process.stdout });
//   const { exitCode } = await runSim65(bytes, { args: ['x'], stdin: process.stdin, stdout: process.stdout });

export { runMachine, runOn, runSim65, traceLine, type RunMachineOptions, type RunMachineResult, type RunSim65Options, type RunSim65Result } from './node/run.js';
export { loadMachineFile, readImages } from './node/files.js';
export { SandboxFs, DEFAULT_FS_QUOTA, type SandboxFsOptions } from './node/sandbox-fs.js';
export { NodeFileBlockStore } from './devices/storage-file.js';
