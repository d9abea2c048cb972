import type { ByteSink } from '../../infra/adapters/byte-sink';

/** Collects what it is given, in spaces of an odd size, and asks the reader to wait every fifth piece. */
export function collectingSink(spaceBytes = 65_536 + 13): ByteSink & { bytes(): Buffer; waits(): number } {
  const parts: Buffer[] = [];
  let space = Buffer.alloc(spaceBytes);
  let waits = 0;
  return {
    space: () => space,
    commit(n) {
      parts.push(Buffer.from(space.subarray(0, n)));
      space = Buffer.alloc(spaceBytes);
      return parts.length % 5 !== 0;
    },
    drained: () => new Promise((resolve) => setTimeout(() => resolve(void waits++), 1)),
    bytes: () => Buffer.concat(parts),
    waits: () => waits,
  };
}
