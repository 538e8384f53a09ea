// hyper6502 for web pages: the whole browser-safe API, plus embedding.
//
// How to drive this (from the built bundle, dist/browser/hyper6502.js, which
// finds hyper6502.wasm and worker.js next to itself):
//   <script type="module">
//     import { mountMachine } from './hyper6502.js';
//     await mountMachine(document.querySelector('#emu'), { spec: { profile: 'easy6502', program } });
//   </script>

export * from './index.js';
export { mountMachine, EmbeddedMachine, type MountOptions, type Speed, type TerminalLike } from './web/embed.js';
