import type { Readable } from 'node:stream';

/**
 * Memory that a reader fills in place (the hashing thread's batches are one): the bytes land where they are used,
 * with no buffer allocated per read and none copied again.
 */
export interface ByteSink {
  /** Where the next bytes go; never empty. */
  space(): Buffer;
  /** n bytes were written at the start of the last space(); false asks the reader to wait for drained(). */
  commit(n: number): boolean;
  drained(): Promise<void>;
}

/** Copies a stream into a sink, for readers that can only hand out buffers of their own. Returns the byte count. */
export async function streamIntoSink(stream: Readable, sink: ByteSink): Promise<number> {
  let bytes = 0;
  for await (const data of stream) {
    const chunk = data as Buffer;
    for (let at = 0; at < chunk.length;) {
      const n = chunk.copy(sink.space(), 0, at);
      at += n;
      bytes += n;
      if (!sink.commit(n)) await sink.drained();
    }
  }
  return bytes;
}

/** A sink that counts what passes into another, to tell whether a failed read already delivered bytes. */
export function countingSink(
  sink: ByteSink,
  onCommit?: (total: number) => void,
): ByteSink & { bytes: number } {
  const counting = {
    bytes: 0,
    space: () => sink.space(),
    commit: (n: number) => {
      counting.bytes += n;
      const more = sink.commit(n);
      onCommit?.(counting.bytes);
      return more;
    },
    drained: () => sink.drained(),
  };
  return counting;
}
