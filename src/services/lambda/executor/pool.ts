import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock, Timer } from '../../../core/clock.ts';
import type { Logger } from '../../../core/logger.ts';
import type { LogsPort } from '../../../core/ports.ts';
import { type NextInvocation, type RuntimeApiServer, startRuntimeApi } from '../runtime-api/server.ts';
import { NodeBinaries } from './node-binary.ts';

/**
 * The process pool: one child process per execution environment, speaking the Runtime API on its
 * own port. Environments are reused warm, one invocation at a time each; a function runs at most
 * its concurrency limit of them. A timeout kills the process; a crash ends only that environment.
 */

export interface FunctionSpec {
  accountId: string;
  region: string;
  name: string;
  version: string;
  /** Identity of code + configuration: environments only serve the spec they were started with. */
  revision: string;
  runtime: string;
  handler: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  taskRoot: string;
  logGroup: string;
  /** LoggingConfig: Text (default) or JSON, with JSON's application and system log levels. */
  logFormat?: string;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  functionArn: string;
  /** Local-directory code: environments are retired when a file under it changes (hot reload). */
  watchDir?: string;
}

export interface InvokeRequest {
  requestId: string;
  payload: Buffer;
  /** ARN as invoked (with the qualifier used). */
  invokedArn: string;
  clientContext?: string;
}

export interface InvokeOutcome {
  payload: Buffer;
  functionError?: 'Unhandled';
  /** This invocation's log text (START … REPORT). */
  logText: string;
  durationMs: number;
  initDurationMs?: number;
}

interface Invocation {
  req: InvokeRequest;
  spec: FunctionSpec;
  resolve: (o: InvokeOutcome) => void;
  startedAt: number;
  timer?: Timer;
  logText: string;
  /** Output markers still expected before the invocation may end (stdout, stderr). */
  awaitingMarkers: number;
  pendingEnd?: () => void;
}

interface Environment {
  id: string;
  spec: FunctionSpec;
  child?: ChildProcess;
  api?: RuntimeApiServer;
  state: 'init' | 'idle' | 'busy' | 'dead';
  retired: boolean;
  waiter?: (inv: NextInvocation) => void;
  queued?: NextInvocation;
  current?: Invocation;
  logStream: string;
  spawnedAt: number;
  initDurationMs?: number;
  initReported: boolean;
  initError?: Buffer;
  stderrTail: string;
  maxRssKb: number;
  /** Reclaims the environment after it has been idle for a while (AWS does too). */
  idleTimer?: Timer;
  /** The Node.js binary for nodejs runtimes. */
  nodeBin?: string;
}

export interface PoolOptions {
  clock: Clock;
  logger: Logger;
  logs: LogsPort;
  endpoint: () => string;
  /** Idle environments are stopped after this much clock time. Default 10 minutes. */
  idleMs?: number;
  /** Cap on live environments (processes); beyond it invocations wait. Default 32 (EDDY_LAMBDA_MAX_ENVIRONMENTS). */
  maxEnvironments?: number;
}

const MARK = '\u0000EDDY-END ';
const here = dirname(fileURLToPath(import.meta.url));

/** The bootstrap ships as a file in src/; the bundled dist/ finds it beside the package root. */
function bootstrapPath(): string {
  const candidates = [
    join(here, '..', 'runtime', 'node', 'bootstrap.mjs'),
    join(here, '..', 'src', 'services', 'lambda', 'runtime', 'node', 'bootstrap.mjs'),
    join(here, 'src', 'services', 'lambda', 'runtime', 'node', 'bootstrap.mjs'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`Eddy's Node.js runtime bootstrap is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Eddy's own node_modules holding the AWS SDK v3, offered to handlers that do not bundle it. */
function sdkNodeModules(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve('@aws-sdk/client-dynamodb/package.json');
    return dirname(dirname(dirname(pkg)));
  } catch {
    return undefined;
  }
}

const hex = (n: number) => randomBytes(n).toString('hex');

export class ProcessPool {
  private readonly envs = new Set<Environment>();
  private readonly sdkDir = sdkNodeModules();
  private readonly nodes: NodeBinaries;
  private stopped = false;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly watchers = new Map<string, FSWatcher>();
  /** At most this many environments (processes) at once on this machine. */
  private readonly maxEnvironments: number;

  constructor(private readonly opts: PoolOptions) {
    this.nodes = new NodeBinaries(opts.logger);
    this.maxEnvironments = opts.maxEnvironments ?? (Number(process.env.EDDY_LAMBDA_MAX_ENVIRONMENTS) || 32);
  }

  /** Environments running (busy or starting) for a function, across its versions. */
  busyCount(accountId: string, region: string, name: string): number {
    let n = 0;
    for (const e of this.envs)
      if (
        e.spec.accountId === accountId &&
        e.spec.region === region &&
        e.spec.name === name &&
        (e.state === 'busy' || e.state === 'init')
      )
        n++;
    return n;
  }
  totalBusy(accountId: string, region: string): number {
    let n = 0;
    for (const e of this.envs)
      if (e.spec.accountId === accountId && e.spec.region === region && (e.state === 'busy' || e.state === 'init')) n++;
    return n;
  }
  stats(): { environments: number; busy: number } {
    let busy = 0;
    for (const e of this.envs) if (e.state === 'busy' || e.state === 'init') busy++;
    return { environments: this.envs.size, busy };
  }

  /** Run one invocation on a warm environment of this spec, or a new one. */
  async invoke(spec: FunctionSpec, req: InvokeRequest): Promise<InvokeOutcome> {
    const nodeBin = spec.runtime.startsWith('nodejs') ? await this.nodes.forRuntime(spec.runtime) : undefined;
    for (;;) {
      if (this.stopped) throw new Error('Eddy is stopping');
      let env: Environment | undefined;
      let spare: Environment | undefined;
      for (const e of this.envs) {
        if (e.state !== 'idle' || e.retired) continue;
        if (
          e.spec.revision === spec.revision &&
          e.spec.version === spec.version &&
          e.spec.name === spec.name &&
          e.spec.accountId === spec.accountId &&
          e.spec.region === spec.region
        ) {
          env = e;
          break;
        }
        spare ??= e;
      }
      if (env) {
        env.idleTimer?.cancel();
        env.idleTimer = undefined;
      } else if (this.envs.size < this.maxEnvironments) env = this.spawn(spec, nodeBin);
      else if (spare) {
        // The machine-wide cap is reached: make room by stopping another function's idle environment.
        this.kill(spare);
        env = this.spawn(spec, nodeBin);
      } else {
        // Every environment is busy: wait for one to finish (local resource cap, not an AWS throttle).
        await new Promise<void>((r) => this.roomWaiters.push(r));
        continue;
      }
      const chosen = env;
      chosen.state = chosen.state === 'init' ? 'init' : 'busy';
      return new Promise<InvokeOutcome>((resolve) => this.dispatch(chosen, spec, req, resolve));
    }
  }

  /** Wake invocations waiting for room under the environment cap. */
  private wakeRoom(): void {
    const waiters = this.roomWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Stop reusing a function's environments (code or configuration changed, or it was deleted). */
  retire(accountId: string, region: string, name: string): void {
    for (const e of this.envs) {
      if (e.spec.accountId !== accountId || e.spec.region !== region || e.spec.name !== name) continue;
      e.retired = true;
      if (e.state === 'idle') this.kill(e);
    }
  }

  retireAll(): void {
    for (const e of this.envs) {
      e.retired = true;
      if (e.state === 'idle') this.kill(e);
    }
  }

  /** Retire a local-code function's environments when its directory changes (edit, save, invoke). */
  private watch(spec: FunctionSpec): void {
    const key = `${spec.accountId}/${spec.region}/${spec.name}/${spec.watchDir}`;
    if (this.watchers.has(key)) return;
    try {
      const w = watch(spec.watchDir!, { recursive: true }, () => this.retire(spec.accountId, spec.region, spec.name));
      w.on('error', () => {
        w.close();
        this.watchers.delete(key);
      });
      w.unref();
      this.watchers.set(key, w);
    } catch (e) {
      this.opts.logger.warn('lambda: cannot watch local code directory; call UpdateFunctionConfiguration to reload', {
        dir: spec.watchDir,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.wakeRoom();
    for (const e of [...this.envs]) {
      if (e.current) this.finish(e, this.errorOutcome(e, 'Runtime.Unknown', 'Eddy is stopping'));
      this.kill(e);
    }
  }

  private spawn(spec: FunctionSpec, nodeBin?: string): Environment {
    const now = this.opts.clock.now();
    const d = new Date(now);
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    const env: Environment = {
      id: hex(16),
      spec,
      state: 'init',
      retired: false,
      logStream: `${day}/[${spec.version}]${hex(16)}`,
      spawnedAt: performance.now(),
      initReported: false,
      stderrTail: '',
      maxRssKb: 0,
      nodeBin,
    };
    this.envs.add(env);
    if (spec.watchDir) this.watch(spec);
    void this.start(env).catch((e) => {
      this.opts.logger.error('lambda environment failed to start', {
        function: spec.name,
        error: e instanceof Error ? e.message : String(e),
      });
      this.onExit(env, null, null, e instanceof Error ? e.message : String(e));
    });
    return env;
  }

  private async start(env: Environment): Promise<void> {
    const spec = env.spec;
    env.api = await startRuntimeApi({
      next: (deliver) => this.onNext(env, deliver),
      response: (id, body, headers) => this.onResponse(env, id, body, headers),
      error: (id, body, headers) => this.onError(env, id, body, headers),
      initError: (body) => {
        env.initError = body;
      },
    });
    if (env.state === 'dead') {
      env.api.close();
      return;
    }
    const isNode = spec.runtime.startsWith('nodejs');
    const vars: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: spec.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      ...(spec.logFormat === 'JSON'
        ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: spec.applicationLogLevel ?? 'INFO' }
        : {}),
      AWS_LAMBDA_LOG_STREAM_NAME: env.logStream,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_RUNTIME_API: env.api.address,
      AWS_REGION: spec.region,
      AWS_DEFAULT_REGION: spec.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      LAMBDA_TASK_ROOT: spec.taskRoot,
      LAMBDA_RUNTIME_DIR: dirname(isNode ? bootstrapPath() : spec.taskRoot),
      _HANDLER: spec.handler,
      // The function's account as a 12-digit key keeps its SDK calls in that account.
      AWS_ACCESS_KEY_ID: spec.accountId,
      AWS_SECRET_ACCESS_KEY: 'eddy-local-secret',
      AWS_SESSION_TOKEN: 'eddy-local-session',
      AWS_ENDPOINT_URL: this.opts.endpoint(),
      ...spec.environment,
    };
    if (this.sdkDir) {
      vars.NODE_PATH = this.sdkDir;
      vars._EDDY_SDK_NODE_MODULES = this.sdkDir;
    }
    let cmd: string;
    let args: string[];
    if (isNode) {
      cmd = env.nodeBin ?? process.execPath;
      const heap = Math.max(16, Math.floor(spec.memorySize * 0.9));
      args = [`--max-old-space-size=${heap}`, '--no-warnings=ExperimentalWarning', bootstrapPath()];
    } else {
      cmd = join(spec.taskRoot, 'bootstrap');
      args = [];
    }
    const child = spawn(cmd, args, { cwd: spec.taskRoot, env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
    env.child = child;
    this.pipeOutput(env, child.stdout!, false);
    this.pipeOutput(env, child.stderr!, true);
    child.on('error', (e) => this.onExit(env, null, null, e.message));
    child.on('close', (code, signal) => this.onExit(env, code, signal));
  }

  private pipeOutput(env: Environment, stream: NodeJS.ReadableStream, isErr: boolean): void {
    let rest = '';
    stream.setEncoding?.('utf8');
    stream.on('data', (chunk: string) => {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      const events: { timestamp: number; message: string }[] = [];
      for (const line of lines) {
        if (line.startsWith(MARK)) {
          const inv = env.current;
          if (inv && line.slice(MARK.length) === inv.req.requestId) {
            inv.awaitingMarkers--;
            if (inv.awaitingMarkers <= 0 && inv.pendingEnd) {
              this.flush(env, events);
              events.length = 0;
              inv.pendingEnd();
            }
          }
          continue;
        }
        if (isErr) env.stderrTail = (env.stderrTail + line + '\n').slice(-4096);
        events.push({ timestamp: this.opts.clock.now(), message: `${line.replace(/\r/g, '\n')}\n` });
      }
      this.flush(env, events);
    });
  }

  /** Write lines to the environment's log stream and the current invocation's tail. */
  private flush(env: Environment, events: { timestamp: number; message: string }[]): void {
    if (!events.length) return;
    if (env.current) for (const e of events) env.current.logText += e.message;
    try {
      this.opts.logs.append(
        { accountId: env.spec.accountId, region: env.spec.region, group: env.spec.logGroup, stream: env.logStream },
        events,
      );
    } catch (e) {
      this.opts.logger.warn('could not write function logs', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private json(spec: FunctionSpec): boolean {
    return spec.logFormat === 'JSON';
  }

  /** A platform event in JSON log format (suppressed when the system log level is above INFO). */
  private platform(env: Environment, type: string, record: Record<string, unknown>): void {
    const level = env.spec.systemLogLevel ?? 'INFO';
    if (level === 'WARN' || level === 'ERROR' || level === 'FATAL') return;
    this.log(env, `${JSON.stringify({ time: new Date(this.opts.clock.now()).toISOString(), type, record })}\n`);
  }

  private log(env: Environment, message: string): void {
    this.flush(env, [{ timestamp: this.opts.clock.now(), message }]);
  }

  private dispatch(
    env: Environment,
    spec: FunctionSpec,
    req: InvokeRequest,
    resolve: (o: InvokeOutcome) => void,
  ): void {
    const inv: Invocation = { req, spec, resolve, startedAt: 0, logText: '', awaitingMarkers: 0 };
    env.current = inv;
    // The function's timeout, plus AWS's 10 s init allowance while the environment starts.
    const limitMs = spec.timeout * 1000 + (env.state === 'init' ? 10_000 : 0);
    inv.timer = this.opts.clock.after(limitMs, () => this.onTimeout(env, inv));
    const deliver: NextInvocation = {
      requestId: req.requestId,
      deadlineMs: this.opts.clock.now() + spec.timeout * 1000,
      dispatchedAt: this.opts.clock.now(),
      functionArn: req.invokedArn,
      traceId: `Root=1-${Math.floor(this.opts.clock.now() / 1000).toString(16)}-${hex(12)};Parent=${hex(8)};Sampled=0;Lineage=1:${hex(4)}:0`,
      clientContext: req.clientContext,
      payload: req.payload,
    };
    if (env.waiter) {
      const w = env.waiter;
      env.waiter = undefined;
      this.begin(env, inv);
      w(this.stamp(deliver));
    } else {
      env.queued = deliver;
    }
  }

  /** The deadline counts from the moment the runtime receives the event (init is not billed to it). */
  private stamp(d: NextInvocation): NextInvocation {
    return { ...d, deadlineMs: this.opts.clock.now() + (d.deadlineMs - d.dispatchedAt!), dispatchedAt: undefined };
  }

  private begin(env: Environment, inv: Invocation): void {
    if (env.initDurationMs === undefined) env.initDurationMs = performance.now() - env.spawnedAt;
    env.state = 'busy';
    inv.startedAt = performance.now();
    // Re-arm the timeout from now: the init allowance is over.
    inv.timer?.cancel();
    inv.timer = this.opts.clock.after(inv.spec.timeout * 1000, () => this.onTimeout(env, inv));
    if (this.json(inv.spec))
      this.platform(env, 'platform.start', { requestId: inv.req.requestId, version: inv.spec.version });
    else this.log(env, `START RequestId: ${inv.req.requestId} Version: ${inv.spec.version}\n`);
  }

  private onNext(env: Environment, deliver: (inv: NextInvocation) => void): void {
    if (env.state === 'dead') return;
    if (env.queued && env.current) {
      const q = env.queued;
      env.queued = undefined;
      this.begin(env, env.current);
      deliver(this.stamp(q));
      return;
    }
    if (env.initDurationMs === undefined) env.initDurationMs = performance.now() - env.spawnedAt;
    env.waiter = deliver;
  }

  private onResponse(
    env: Environment,
    id: string,
    body: Buffer,
    headers: Record<string, string>,
  ): 'ok' | 'unknown' | 'too-large' {
    const inv = env.current;
    if (!inv || inv.req.requestId !== id) return 'unknown';
    this.noteRss(env, headers);
    if (headers['x-eddy-too-large']) {
      const size = Number(headers['x-eddy-too-large']);
      this.endWhenFlushed(env, inv, () =>
        this.complete(env, inv, {
          payload: Buffer.from(
            JSON.stringify({
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
            }),
          ),
          functionError: 'Unhandled',
        }),
      );
      return 'too-large';
    }
    this.endWhenFlushed(env, inv, () => this.complete(env, inv, { payload: body }));
    return 'ok';
  }

  private onError(env: Environment, id: string, body: Buffer, headers: Record<string, string>): 'ok' | 'unknown' {
    const inv = env.current;
    if (!inv || inv.req.requestId !== id) return 'unknown';
    this.noteRss(env, headers);
    // The runtime is about to exit (uncaught exception): never hand this environment more work.
    if (headers['x-eddy-fatal']) env.retired = true;
    this.endWhenFlushed(env, inv, () => this.complete(env, inv, { payload: body, functionError: 'Unhandled' }));
    return 'ok';
  }

  private noteRss(env: Environment, headers: Record<string, string>): void {
    const kb = Number(headers['x-eddy-max-rss-kb']);
    if (kb > env.maxRssKb) env.maxRssKb = kb;
  }

  /** Our bootstrap writes an end marker on stdout and stderr before posting: wait for both so logs are complete. */
  private endWhenFlushed(env: Environment, inv: Invocation, end: () => void): void {
    const ours = env.spec.runtime.startsWith('nodejs');
    if (ours) inv.awaitingMarkers += 2;
    // Markers that already arrived were counted down below zero.
    if (!ours) {
      // Custom runtimes write no end markers: let output already in the pipes be read first.
      setImmediate(() => setImmediate(end));
      return;
    }
    if (inv.awaitingMarkers <= 0) {
      end();
      return;
    }
    let ended = false;
    inv.pendingEnd = () => {
      if (ended) return;
      ended = true;
      end();
    };
  }

  private complete(
    env: Environment,
    inv: Invocation,
    r: { payload: Buffer; functionError?: 'Unhandled' },
    status?: string,
  ): void {
    if (env.current !== inv) return;
    inv.timer?.cancel();
    const duration = inv.startedAt ? performance.now() - inv.startedAt : 0;
    const billed = Math.max(1, Math.ceil(duration));
    const init = !env.initReported && env.initDurationMs !== undefined ? env.initDurationMs : undefined;
    env.initReported = true;
    const mem = Math.max(1, Math.round(env.maxRssKb / 1024));
    if (this.json(inv.spec)) {
      const metrics: Record<string, number> = {
        durationMs: Number(duration.toFixed(3)),
        billedDurationMs: billed + (init !== undefined ? Math.ceil(init) : 0),
        memorySizeMB: inv.spec.memorySize,
        maxMemoryUsedMB: mem,
      };
      if (init !== undefined) metrics.initDurationMs = Number(init.toFixed(3));
      this.platform(env, 'platform.report', {
        requestId: inv.req.requestId,
        metrics,
        status: status === 'timeout' ? 'timeout' : r.functionError ? 'error' : 'success',
      });
    } else {
      this.log(env, `END RequestId: ${inv.req.requestId}\n`);
      this.log(
        env,
        `REPORT RequestId: ${inv.req.requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${billed + (init !== undefined ? Math.ceil(init) : 0)} ms\tMemory Size: ${inv.spec.memorySize} MB\tMax Memory Used: ${mem} MB\t${init !== undefined ? `Init Duration: ${init.toFixed(2)} ms\t` : ''}${status ? `Status: ${status}\t` : ''}\n`,
      );
    }
    env.current = undefined;
    if (env.state !== 'dead') {
      env.state = 'idle';
      this.wakeRoom();
      if (env.retired || this.stopped) this.kill(env);
      else {
        env.idleTimer = this.opts.clock.after(this.opts.idleMs ?? 600_000, () => {
          if (env.state === 'idle') this.kill(env);
        });
      }
    }
    inv.resolve({
      payload: r.payload,
      functionError: r.functionError,
      logText: inv.logText,
      durationMs: duration,
      initDurationMs: init,
    });
  }

  private finish(env: Environment, r: { payload: Buffer; functionError?: 'Unhandled' }, status?: string): void {
    if (env.current) this.complete(env, env.current, r, status);
  }

  private errorOutcome(_env: Environment, errorType: string, errorMessage: string) {
    return { payload: Buffer.from(JSON.stringify({ errorType, errorMessage })), functionError: 'Unhandled' as const };
  }

  private onTimeout(env: Environment, inv: Invocation): void {
    if (env.current !== inv) return;
    const secs = inv.spec.timeout.toFixed(2);
    const iso = new Date(this.opts.clock.now()).toISOString();
    if (!inv.startedAt) this.begin(env, inv);
    this.log(env, `${iso} ${inv.req.requestId} Task timed out after ${secs} seconds\n`);
    const r = this.errorOutcome(
      env,
      'Sandbox.Timedout',
      `RequestId: ${inv.req.requestId} Error: Task timed out after ${secs} seconds`,
    );
    this.complete(env, inv, r, 'timeout');
    this.kill(env);
  }

  private onExit(env: Environment, code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (env.state === 'dead' && !env.current) {
      this.envs.delete(env);
      return;
    }
    const inv = env.current;
    if (inv && !inv.startedAt && env.initReported && !env.initError && !this.stopped) {
      // A warm environment died before it took this invocation: run it on a fresh one.
      env.current = undefined;
      inv.timer?.cancel();
      this.kill(env);
      this.invoke(inv.spec, inv.req).then(inv.resolve, (e) =>
        inv.resolve({ ...this.errorOutcome(env, 'Runtime.Unknown', String(e)), logText: '', durationMs: 0 }),
      );
      return;
    }
    if (inv) {
      if (!inv.startedAt) this.begin(env, inv);
      if (env.initError) {
        // Init failed (bad handler, import error, exception at module load): the invocation gets that error.
        const err = safeJson(env.initError);
        this.log(
          env,
          `INIT_REPORT Init Duration: ${(performance.now() - env.spawnedAt).toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${err?.errorType ?? 'Runtime.Unknown'}\n`,
        );
        this.complete(env, inv, { payload: env.initError, functionError: 'Unhandled' }, 'error');
      } else {
        const oom =
          /heap out of memory|Allocation failed/.test(env.stderrTail) || signal === 'SIGKILL' || signal === 'SIGABRT';
        const how = spawnError
          ? `Runtime failed to start: ${spawnError}`
          : signal === 'SIGABRT' || oom
            ? 'signal: killed'
            : signal
              ? `signal: ${signal.toLowerCase().replace('sig', '')}`
              : `exit status ${code}`;
        const type = spawnError ? 'Runtime.InvalidEntrypoint' : oom ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
        const msg = `RequestId: ${inv.req.requestId} Error: Runtime exited with error: ${how}`;
        this.log(env, `${msg}\n${type}\n`);
        this.complete(env, inv, this.errorOutcome(env, type, msg), 'error');
      }
    }
    env.state = 'dead';
    env.waiter = undefined;
    env.api?.close();
    this.envs.delete(env);
    this.wakeRoom();
  }

  private kill(env: Environment): void {
    if (this.envs.has(env)) queueMicrotask(() => this.wakeRoom());
    env.idleTimer?.cancel();
    env.state = 'dead';
    env.waiter = undefined;
    env.api?.close();
    if (env.child && env.child.exitCode === null && env.child.signalCode === null) env.child.kill('SIGKILL');
    this.envs.delete(env);
  }
}

function safeJson(b: Buffer): any {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}
