/** Collects a child process's output as it arrives, so tests can wait for a line. */

/** Text gathered from some streams, with a way to wait for a pattern in it. */
export interface Output {
  text(): string;
  /** Resolves with the `count`-th match of `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp | string, count?: number, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Reads every stream to its end in the background, appending to one text. */
export function collectOutput(...streams: ReadableStream<Uint8Array>[]): Output {
  let text = "";
  for (const stream of streams) {
    void (async () => {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += decoder.decode(chunk.value, { stream: true });
      }
    })();
  }
  return {
    text: () => text,
    async waitFor(pattern, count = 1, timeoutMs = 20_000) {
      const source =
        typeof pattern === "string" ? pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : pattern.source;
      const regex = new RegExp(source, "g");
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matches = [...text.matchAll(regex)];
        if (matches.length >= count) return matches[count - 1]!;
        if (Date.now() > deadline)
          throw new Error(`no ${count}x ${regex} within ${timeoutMs} ms in:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
