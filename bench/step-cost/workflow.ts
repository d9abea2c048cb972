import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

interface Steps {
  noop(i: number): Promise<number>;
}
const local = proxyLocalActivities<Steps>({ startToCloseTimeout: '10s' });
const remote = proxyActivities<Steps>({ startToCloseTimeout: '10s' });

/** `steps` no-op activities one after the other, local or remote: what each step costs, with no work in it. */
export async function steps(count: number, kind: 'local' | 'remote'): Promise<number> {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += await (kind === 'local' ? local : remote).noop(i);
  return sum;
}
