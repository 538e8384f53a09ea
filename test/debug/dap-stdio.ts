// The debug adapter as an editor starts it: `hyper6502 dap` on stdin and stdout.
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(['dap'], { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stdin: process.stdin, stdoutStream: process.stdout });
