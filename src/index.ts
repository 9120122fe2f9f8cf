/** The library face: `import { startEddy } from 'eddy'` for a full local AWS stack inside a test process. */
export { type Clock, VirtualClock } from './core/clock.ts';
export { type Eddy, type EddyOptions, startEddy } from './eddy.ts';
