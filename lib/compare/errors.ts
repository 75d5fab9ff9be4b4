// The comparison's input errors: one class, every message prefixed with the function's name and
// naming the argument, what was expected and what to do.

export class CompareError extends Error {
  constructor(message: string) {
    super(`compareLosses: ${message}`);
    this.name = 'CompareError';
  }
}

/** Thrown when the run's AbortSignal fires; nothing is written and no tensor is left behind. */
export class CompareAbortedError extends Error {
  constructor(reason?: unknown) {
    super(`compareLosses: cancelled${reason instanceof Error ? ` (${reason.message})` : ''}; nothing was written`);
    this.name = 'AbortError';
  }
}
