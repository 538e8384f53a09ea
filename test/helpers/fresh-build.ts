// Vitest's global set-up: refuses to test build outputs that are stale (the
// Wasm core, dist/, the browser build), so no test runs against an old build.
//
// How to drive this: nothing to call; vitest.config.ts names it. `npm test`
// rebuilds what is stale before vitest starts (scripts/build.ts --stale).

import { staleOutputs } from '../../scripts/build.ts';

export default function refuseStaleBuilds() {
  const stale = staleOutputs();
  if (stale.length) {
    throw new Error(`stale build outputs: ${stale.join('; ')}. They were built from other sources than the tree has: run \`npm run build\` (npm test does it itself).`);
  }
}
