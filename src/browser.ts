// hyper6502 for web pages: the whole browser-safe API, plus embedding.
//
// How to drive this (from the built bundle, dist/browser/hyper6502.js, which
// finds hyper6502.wasm and worker.js next to itself, or where the options
// `wasm` and `worker` say):
//   <script type="module">
//     import { mountMachine } from './hyper6502.js';
//     await mountMachine(document.querySelector('#emu'), { machine: 'easy6502', program });
//   </script>
// A bundler finds the same bundle for `hyper6502` and `hyper6502/browser`
// (the package's `browser` export condition): the library exists once.

export * from './index.js';
export { mountMachine, EmbeddedMachine, type MountOptions, type Speed, type TerminalLike } from './web/embed.js';
