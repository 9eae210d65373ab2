/** The error `run` throws, or undefined if it returns: to assert an error's class and code. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
