// Eddy's Node.js runtime: speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API, loads the
// handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or ESM, async or callback style) and
// formats console output as AWS's Node.js runtimes do. Runs in its own process, one per environment.

import fs from 'node:fs';
import http from 'node:http';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [apiHost, apiPort] = api.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const taskRoot = process.env.LAMBDA_TASK_ROOT;
const handlerName = process.env._HANDLER ?? '';
const MARK = '\u0000EDDY-END ';

// ESM handlers resolve bare specifiers from their own node_modules first, then from Eddy's (the
// AWS SDK for JavaScript v3, as AWS's Node.js runtimes provide it). CommonJS uses NODE_PATH.
const sdkDir = process.env._EDDY_SDK_NODE_MODULES;
if (sdkDir && typeof register === 'function') {
  const parent = pathToFileURL(path.join(sdkDir, '..', 'eddy-sdk-fallback.js')).href;
  const hooks = `export async function resolve(spec, ctx, next) {
    try { return await next(spec, ctx); } catch (e) {
      if (e && e.code === 'ERR_MODULE_NOT_FOUND' && !/^(\\.|\\/|file:|node:|data:)/.test(spec)) return next(spec, { ...ctx, parentURL: ${JSON.stringify(parent)} });
      throw e;
    }
  }`;
  try {
    register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  } catch {
    // Older Node without module hooks: ESM handlers must bundle their dependencies.
  }
}

let currentId;

// console.* as AWS formats it. Text: `<ISO time>\t<request id>\t<LEVEL>\t<message>`, newlines inside
// one message become \r so it stays one log event (Eddy turns them back into \n). JSON
// (LoggingConfig.LogFormat): `{"timestamp","level","requestId","message"}`, filtered by the
// application log level.
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const minLevel = jsonLogs ? Math.max(0, LEVELS.indexOf(process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO')) : 0;
const write = (level, args) => {
  if (!jsonLogs) {
    const msg = util.format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${currentId ?? 'undefined'}\t${level}\t${msg}\n`);
    return;
  }
  if (LEVELS.indexOf(level) < minLevel) return;
  const rec = { timestamp: new Date().toISOString(), level, requestId: currentId };
  if (args.length === 1 && args[0] instanceof Error) {
    const e = args[0];
    Object.assign(rec, {
      message: e.message,
      errorType: e.name,
      errorMessage: e.message,
      stackTrace: (e.stack ?? '').split('\n'),
    });
  } else if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
    rec.message = args[0];
  } else rec.message = util.format(...args);
  let line;
  try {
    line = JSON.stringify(rec);
  } catch {
    line = JSON.stringify({ ...rec, message: util.format(...args) });
  }
  process.stdout.write(`${line}\n`);
};
/** The runtime's own error lines ("Invoke Error", "Uncaught Exception") in either format. */
const logError = (label, err) => {
  if (jsonLogs) write('ERROR', [{ errorType: err.errorType, errorMessage: err.errorMessage, stackTrace: err.trace }]);
  else console.error(label, `\t${JSON.stringify(err)}`);
};
console.log = (...a) => write('INFO', a);
console.info = (...a) => write('INFO', a);
console.warn = (...a) => write('WARN', a);
console.error = (...a) => write('ERROR', a);
console.debug = (...a) => write('DEBUG', a);
console.trace = (...a) => write('TRACE', a);

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: Number(apiPort), method, path: p, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function formatError(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name === 'Error' && err.constructor?.name ? err.constructor.name : err.name,
      errorMessage: err.message,
      trace: (err.stack ?? '').split('\n'),
    };
  }
  if (err && typeof err === 'object') return { errorType: 'Error', errorMessage: JSON.stringify(err), trace: [] };
  return { errorType: 'string', errorMessage: String(err), trace: [] };
}

class RuntimeError extends Error {
  constructor(name, message, cause) {
    super(message);
    this.name = name;
    if (cause?.stack) this.stack = `${name}: ${message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  }
}

async function loadHandler() {
  const base = path.basename(handlerName);
  const dot = base.indexOf('.');
  if (dot < 0)
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerName}: missing module part`);
  const modPath = path.join(path.dirname(handlerName), base.slice(0, dot));
  const fnPath = base.slice(dot + 1).split('.');
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => path.resolve(taskRoot, modPath + ext));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw new RuntimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modPath}'\nRequire stack:\n- /var/runtime/index.mjs`,
    );
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND')
      throw new RuntimeError('Runtime.ImportModuleError', `Error: ${e.message}`, e);
    throw e;
  }
  let fn = mod;
  for (const k of fnPath) fn = fn?.[k] ?? (fn === mod ? mod.default?.[k] : undefined);
  if (typeof fn !== 'function')
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerName} is undefined or not exported`);
  return fn;
}

function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const callback = (err, result) => {
      if (done) return;
      done = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e ?? 'handled');
    context.done = callback;
    try {
      const r = handler(event, context, callback);
      if (r && typeof r.then === 'function')
        r.then(
          (v) => callback(null, v),
          (e) => callback(e ?? new Error('Promise rejected')),
        );
      else if (handler.length < 3) callback(null, r);
    } catch (e) {
      callback(e);
    }
  });
}

const memKb = () => {
  try {
    return process.resourceUsage().maxRSS;
  } catch {
    return Math.round(process.memoryUsage().rss / 1024);
  }
};

async function post(p, body, extra = {}) {
  // Flush markers first so Eddy has every line this invocation wrote before it ends the invocation.
  process.stdout.write(`${MARK}${currentId}\n`);
  process.stderr.write(`${MARK}${currentId}\n`);
  return request('POST', p, body, {
    'content-type': 'application/json',
    'x-eddy-max-rss-kb': String(memKb()),
    ...extra,
  });
}

async function reportUncaught(err, type) {
  const e = formatError(err);
  if (type) e.errorType = type;
  logError(type === 'Runtime.UnhandledPromiseRejection' ? 'Unhandled Promise Rejection' : 'Uncaught Exception', e);
  try {
    if (currentId)
      await post(`/2018-06-01/runtime/invocation/${currentId}/error`, JSON.stringify(e), {
        'lambda-runtime-function-error-type': e.errorType,
        'x-eddy-fatal': '1',
      });
    else
      await request('POST', '/2018-06-01/runtime/init/error', JSON.stringify(e), {
        'lambda-runtime-function-error-type': e.errorType,
      });
  } finally {
    process.exit(129);
  }
}
process.on('uncaughtException', (e) => reportUncaught(e));
process.on('unhandledRejection', (reason) => {
  const err = reason instanceof Error ? reason : new Error(String(reason));
  const msg = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  reportUncaught(
    Object.assign(new Error(msg), { name: 'Runtime.UnhandledPromiseRejection', stack: err.stack }),
    'Runtime.UnhandledPromiseRejection',
  );
});

let handler;
try {
  handler = await loadHandler();
} catch (e) {
  const err = formatError(e);
  if (e instanceof RuntimeError) err.errorType = e.name;
  console.error(`${err.errorType}: ${err.errorMessage}`);
  await request('POST', '/2018-06-01/runtime/init/error', JSON.stringify(err), {
    'lambda-runtime-function-error-type': err.errorType,
  });
  process.exit(1);
}

const fnName = process.env.AWS_LAMBDA_FUNCTION_NAME;
for (;;) {
  const next = await request('GET', '/2018-06-01/runtime/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  currentId = id;
  process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] ?? '';
  let event;
  try {
    event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
  } catch {
    event = next.body.toString('utf8');
  }
  const cc = next.headers['lambda-runtime-client-context'];
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: id,
    invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
    functionName: fnName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await invoke(handler, event, context);
    const body = result === undefined ? 'null' : JSON.stringify(result);
    await post(`/2018-06-01/runtime/invocation/${id}/response`, body ?? 'null');
  } catch (e) {
    const err = formatError(e);
    logError('Invoke Error', err);
    await post(`/2018-06-01/runtime/invocation/${id}/error`, JSON.stringify(err), {
      'lambda-runtime-function-error-type': err.errorType,
    });
  }
  currentId = undefined;
}
