import { describe, expect, it } from 'vitest';
import * as registered from '../workflows/index';
import { WORKFLOW_TYPES } from '../workflows/definitions';

describe('WORKFLOW_TYPES (workflows/definitions.ts)', () => {
  it('names exactly the workflows the worker registers, each by the name it is exported under', () => {
    expect(Object.keys(registered).sort()).toEqual(Object.values(WORKFLOW_TYPES).sort());
    for (const [key, type] of Object.entries(WORKFLOW_TYPES)) {
      expect(type).toBe(key);
      expect(typeof (registered as Record<string, unknown>)[type]).toBe('function');
    }
  });
});
