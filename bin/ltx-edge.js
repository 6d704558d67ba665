#!/usr/bin/env node
// The ltx-edge executable. In a checkout Node 24 runs the TypeScript sources directly (type stripping); the npm package ships this file compiled (dist/cli.js, npm run build).

const MIN_NODE_MAJOR = 24;
if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  console.error(`ltx-edge needs Node.js ${MIN_NODE_MAJOR} or newer (it uses node:sqlite); this is ${process.version}.`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
