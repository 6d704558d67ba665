// The CLI entry: help, version, and usage errors (exit 2) for every kind of bad invocation.

import { describe, expect, it } from 'vitest';
import { VERSION } from '../../../src/version.ts';
import { runCLI } from '../../helpers/run-cli.ts';

describe('ltx-edge usage', () => {
  it('--help prints the usage on stdout, exit 0', () => {
    const r = runCLI(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['ltx inspect', 'ltx verify', 'ltx apply']) expect(r.stdout).toContain(c);
  });

  it('--version prints the package version', () => {
    const r = runCLI(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it.each([
    ['ltx', 'inspect', '--help'],
    ['ltx', 'verify', '-h'],
    ['ltx', 'apply', '--help'],
    ['ltx', '--help'],
  ])('%s %s %s prints help, exit 0', (...args) => {
    const r = runCLI(args);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage:');
  });

  const USAGE_ERRORS: [name: string, args: string[]][] = [
    ['no arguments', []],
    ['unknown command', ['frobnicate']],
    ['ltx without a command', ['ltx']],
    ['unknown ltx command', ['ltx', 'frob']],
    ['inspect without a file', ['ltx', 'inspect']],
    ['inspect with two files', ['ltx', 'inspect', 'a.ltx', 'b.ltx']],
    ['unknown option', ['ltx', 'inspect', '--bogus', 'a.ltx']],
    ['verify without files', ['ltx', 'verify', '--json']],
    ['apply without LTX files', ['ltx', 'apply', 'out.db']],
    ['apply without arguments', ['ltx', 'apply']],
  ];
  it.each(USAGE_ERRORS)('%s → exit 2, usage on stderr', (_, args) => {
    const r = runCLI(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage:');
  });

  it('a usage error with --json also prints a USAGE error object', () => {
    const r = runCLI(['ltx', 'verify', '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'USAGE', message: expect.any(String) } });
  });
});
