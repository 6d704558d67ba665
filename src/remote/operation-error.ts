// A failure of a Node-side operation (restore, import, a local file) with a stable code: the CLI prints the code and exits 1, the agent and the client report it.

export class OperationError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'OperationError';
    this.code = code;
  }
}
