/** The library face: `import { startEddy } from 'eddy'` for a full local AWS stack inside a test process. */
export { type Clock, VirtualClock } from './core/clock.ts';
export { type Eddy, type EddyOptions, startEddy } from './eddy.ts';

import type { DeployOptions, StackResult } from './cli/deploy.ts';

export type { DeployOptions, StackResult };
/** Deploy a CDK app or cloud assembly to a running Eddy (what `eddy deploy` does), e.g. from a test. */
export async function deployAssembly(opts: DeployOptions): Promise<StackResult[]> {
  return (await import('./cli/deploy.ts')).deployAssembly(opts);
}
