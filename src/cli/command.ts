// The shape every CLI command file exports, so main.ts can list and dispatch them (DESIGN §5).

import type { CliIO } from './cli-io.ts';

/** One top-level command (`ltx`, later `push`, `import`, `replicate`, `restore`, `query`). */
export interface Command {
  /** The word after `ltx-edge`. */
  name: string;
  /** For the usage text: each form of the command (after `ltx-edge `) with a one-line description. */
  synopsis: readonly (readonly [form: string, description: string])[];
  /** Runs with the arguments after the command name; resolves to the exit status. Throws UsageError for bad arguments. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Usage lines: `  ltx-edge <form>  <description>`, the description on its own line after a long form. */
export function formatSynopsis(program: string, synopsis: Command['synopsis']): string {
  const width = 44;
  return synopsis
    .map(([form, description]) => {
      const head = `  ${program} ${form}`;
      return head.length < width ? head.padEnd(width) + description : `${head}\n${' '.repeat(width)}${description}`;
    })
    .join('\n');
}
