// What a benchmark suite (one per area: bench/suites/*.ts) gets from the harness and gives back.
import type { Peer, PeerSpec } from './peers.ts';
import type { Section } from './report.ts';

export interface SuiteContext {
  quick: boolean;
  /** The peers selected for this run (suites skip those they do not apply to). */
  peers: PeerSpec[];
  /** performance.now() value after which suites must stop starting new phases. */
  deadline: number;
  log(message: string): void;
  /** Record a peer's version/status for the report's Peers table. */
  notePeer(spec: PeerSpec, info: { version?: string; status: string }): void;
}

export interface Suite {
  id: string;
  run(ctx: SuiteContext): Promise<Section>;
}

export type { Peer };
