import type { DeadLetter, DeadLetterRepository } from '../infra/adapters/dead-letter-repository';

/** Files a poison input for an operator's inspection (workflows/stage-guard.ts decides when). */
export function recordDeadLetterActivity(deps: { deadLetters: DeadLetterRepository }) {
  return async function recordDeadLetter(letter: DeadLetter): Promise<void> {
    await deps.deadLetters.record(letter);
  };
}
