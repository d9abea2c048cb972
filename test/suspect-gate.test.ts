import { describe, expect, it } from 'vitest';
import { GateBusy, SuspectGate } from '../activities/media/suspect-gate';

describe('SuspectGate: a suspect runs alone on the worker', () => {
  it('ordinary runs share it; a suspect waits for them, and everyone else is turned away meanwhile', async () => {
    const gate = new SuspectGate();
    const a = await gate.enter(false);
    const b = await gate.enter(false);
    let suspectIn = false;
    const suspect = gate.enter(true).then((release) => {
      suspectIn = true;
      return release;
    });
    await Promise.resolve();
    expect(gate.running).toEqual({ ordinary: 2, suspect: 'waiting' });
    // Arrivals while a suspect waits would die with it: busy, not queued.
    await expect(gate.enter(false)).rejects.toBeInstanceOf(GateBusy);
    await expect(gate.enter(true)).rejects.toBeInstanceOf(GateBusy);

    a();
    a(); // a release counts once
    await Promise.resolve();
    expect(suspectIn).toBe(false);
    b();
    const release = await suspect;
    expect(suspectIn).toBe(true);
    expect(gate.running).toEqual({ ordinary: 0, suspect: 'running' });
    await expect(gate.enter(false)).rejects.toBeInstanceOf(GateBusy);

    release();
    const after = await gate.enter(false);
    expect(gate.running).toEqual({ ordinary: 1, suspect: 'none' });
    after();
  });

  it('a suspect cancelled while it waits frees the gate', async () => {
    const gate = new SuspectGate();
    const ordinary = await gate.enter(false);
    const cancel = new AbortController();
    const waiting = gate.enter(true, cancel.signal);
    cancel.abort(new Error('deleted'));
    await expect(waiting).rejects.toThrow('deleted');
    expect(gate.running).toEqual({ ordinary: 1, suspect: 'none' });
    ordinary();
    (await gate.enter(true))();
  });
});
