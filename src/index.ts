/** The library face: `import { startEddy } from 'eddy'` for a full local AWS stack inside a test process. */
export { type Clock, VirtualClock } from './core/clock.ts';
export { type Eddy, type EddyOptions, startEddy } from './eddy.ts';
/** Deploy a CDK app or cloud assembly to a running Eddy (what `eddy deploy` does), e.g. from a test. */
export { type DeployOptions, deployAssembly, type StackResult } from './cli/deploy.ts';
