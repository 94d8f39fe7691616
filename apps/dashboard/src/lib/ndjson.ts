/**
 * Reads a streamed `application/x-ndjson` body (the audit's chain runs) one
 * JSON value per line as it arrives: chunks may split a line or a UTF-8
 * character anywhere; blank lines are skipped; the last line needs no newline.
 */
export class NdjsonError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'NdjsonError';
  }
}

export async function* readNdjson(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown, void, undefined> {
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffered = '';
  let lineNumber = 0;
  let finished = false;
  const parse = (line: string): unknown => {
    lineNumber++;
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new NdjsonError(`line ${lineNumber} of the stream is not JSON: ${line.slice(0, 80)}`, lineNumber);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') yield parse(line);
        else lineNumber++;
        newline = buffered.indexOf('\n');
      }
      if (done) {
        finished = true;
        break;
      }
    }
    if (buffered.trim() !== '') yield parse(buffered);
  } finally {
    // A reader that stops early (or a bad line) cancels the request instead of leaving it streaming.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
