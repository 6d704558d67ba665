#!/usr/bin/env node
// The ltx-edge executable: Node 24 runs the TypeScript sources directly (type stripping), no build step.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
