// Errors from native code, as the user sees them. (Interim: replaced by the structured-code
// decoder of the native layout work.)

/** Multi-dimensional index of flat element `flat` in `shape`, as "[i, j, k]". */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis];
    index[axis] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return `[${index.join(', ')}]`;
}

function fromTensorflowError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  const match = /^Invalid TF_Status: 3\nMessage: ((?:softmaxFocalLoss|sigmoidFocalLoss|TfjsFocalLoss\w*): [^]*)$/
                    .exec(message);
  return match === null ? error : new RangeError(match[1]);
}

/**
 * Rethrows an error from the addon or its TensorFlow ops with the op name in front, keeping its
 * type; `shapes` turns flat indices into the index of the user's tensor.
 */
export function rethrowNative(
    opName: string, error: unknown, shapes: {[name: string]: number[]} = {}): never {
  const err = fromTensorflowError(error) as Error;
  const nativeMessage = err && err.message !== undefined ? err.message : String(error);
  let message = nativeMessage.replace(
      /^(softmaxFocalLoss|sigmoidFocalLoss|scaleRows|scaleElements|TfjsFocalLoss\w*): /, '');
  message = message.replace(/\b([A-Za-z]+)\[(\d+)\]/g, (match, name: string, flat: string) => {
    const shape = shapes[name];
    return shape !== undefined && shape.length > 1 ? `${name}${formatIndex(Number(flat), shape)}` :
                                                     match;
  });
  message = `${opName}: ${message}`;
  if (err instanceof RangeError) {
    throw new RangeError(message);
  }
  if (err instanceof TypeError) {
    throw new TypeError(message);
  }
  throw new Error(message);
}
