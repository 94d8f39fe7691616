import { describe, expect, it } from 'vitest';
import { NdjsonError, readNdjson } from './ndjson';

const bytes = (text: string) => new TextEncoder().encode(text);

function streamOf(chunks: Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
    cancel: onCancel,
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of readNdjson(stream)) out.push(value);
  return out;
}

describe('readNdjson', () => {
  it('yields one value per line whatever the chunking, a UTF-8 character split across chunks included', async () => {
    const text = '{"type":"progress","n":1}\n{"type":"progress","node":"ü-€"}\r\n\n{"type":"verdict","ok":true}';
    const encoded = bytes(text);
    const expected = [{ type: 'progress', n: 1 }, { type: 'progress', node: 'ü-€' }, { type: 'verdict', ok: true }];
    // Every split point once, and one byte per chunk.
    for (let cut = 1; cut < encoded.length; cut++) {
      expect(await all(streamOf([encoded.slice(0, cut), encoded.slice(cut)])), `cut at ${cut}`).toEqual(expected);
    }
    expect(await all(streamOf(Array.from(encoded, (b) => Uint8Array.of(b))))).toEqual(expected);
  });

  it('yields nothing for an empty or blank body', async () => {
    expect(await all(streamOf([]))).toEqual([]);
    expect(await all(streamOf([bytes('\n\n  \n')]))).toEqual([]);
  });

  it('names the line that is not JSON, and cancels the rest of the stream', async () => {
    let cancelled = false;
    const stream = streamOf([bytes('{"a":1}\n\n{"b":'), bytes('2}\nnot json\n{"c":3}\n'), bytes('{"d":4}\n')], () => (cancelled = true));
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const v of readNdjson(stream)) seen.push(v);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ a: 1 }, { b: 2 }]);
    expect(error).toBeInstanceOf(NdjsonError);
    expect((error as NdjsonError).line).toBe(4);
    expect((error as Error).message).toMatch(/line 4 .*not JSON: not json/);
    expect(cancelled).toBe(true);
  });

  it('cancels the request when the reader stops early (the page left)', async () => {
    let cancelled = false;
    const stream = streamOf([bytes('{"a":1}\n{"a":2}\n'), bytes('{"a":3}\n')], () => (cancelled = true));
    for await (const v of readNdjson(stream)) {
      expect(v).toEqual({ a: 1 });
      break;
    }
    expect(cancelled).toBe(true);
  });

  it('refuses bytes that are not UTF-8', async () => {
    await expect(all(streamOf([Uint8Array.of(0x7b, 0xff, 0x7d, 0x0a)]))).rejects.toThrow(TypeError);
  });
});
