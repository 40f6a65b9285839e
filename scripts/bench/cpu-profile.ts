import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** Share of all samples, in percent. */
  percent: number;
}

export interface ProfileSummary {
  totalSeconds: number;
  /** Whether only the samples of the measured window were kept (start-up left out). */
  windowed: boolean;
  /** Share of samples the process was idle (waiting in epoll). */
  idlePercent: number;
  topFunctions: ProfileEntry[];
  topModules: ProfileEntry[];
  /** Inclusive time of the stages of a request, in percent of the busy (non-idle) samples. */
  stages: ProfileEntry[];
}

/** Stages of a token request, recognised by the function that runs each (inclusive time). */
const STAGES: { name: string; matches: (functionName: string, url: string) => boolean }[] = [
  {
    name: 'socket write of the response (writev syscall; its sampled share includes preemption)',
    matches: (name, url) => name === 'writev' && url === '',
  },
  {
    name: 'AsyncLocalStorage promise hooks (the request log context; async_hooks on Node 20)',
    matches: (name, url) =>
      (url === 'node:internal/async_hooks' || url === 'node:async_hooks') &&
      name !== 'run' &&
      name !== 'runInAsyncScope',
  },
  {
    name: 'global StrictValidationPipe (class-transformer + class-validator on params and query)',
    matches: (name, url) => name === 'transform' && url.includes('pipes/validation.pipe.js'),
  },
  {
    name: 'ApiKeyGuard.canActivate (SHA-256 of the key, cached principal)',
    matches: (name, url) => name === 'canActivate' && url.includes('/auth/api-key.guard.js'),
  },
  {
    name: 'TokensController.getLinkToken (cache hit, response object)',
    matches: (name, url) => name === 'getLinkToken' && url.includes('/tokens/'),
  },
  {
    name: 'Nest interceptors pipeline',
    matches: (name, url) => name === 'intercept' && url.includes('interceptors-consumer.js'),
  },
  {
    name: "pino child loggers (Fastify's request logger, and the request log context's)",
    matches: (name, url) => name === 'child' && url.includes('/pino/lib/'),
  },
  {
    name: 'HTTP metrics (prom-client histogram, onResponse hook)',
    matches: (name, url) => name === 'observeHttpRequest' && url.includes('/metrics/'),
  },
  {
    name: 'JSON serialisation of the reply',
    matches: (name, url) => name === 'serialize' && url.includes('fastify/lib/reply.js'),
  },
  {
    name: 'garbage collector',
    matches: (name) => name === '(garbage collector)',
  },
];

/** Where a frame's code comes from: a package, Node's internals, the service's own files. */
function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native / V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1];
  const ownMatch = /\/dist\/(.*)$/.exec(url);
  if (ownMatch) return `outlink: ${ownMatch[1].split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

function shortUrl(url: string): string {
  const packageMatch = /node_modules\/(.*)$/.exec(url);
  if (packageMatch) return packageMatch[1];
  const ownMatch = /\/dist\/(.*)$/.exec(url);
  if (ownMatch) return `dist/${ownMatch[1]}`;
  return url.replace(/^file:\/\//, '');
}

/** Inclusive time per stage: a sample counts for every stage on its stack (once each). */
function stageTimes(
  profile: CpuProfile,
  selfMicros: Map<number, number>,
  byId: Map<number, ProfileNode>,
): Map<string, number> {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const times = new Map<string, number>();
  for (const [nodeId, micros] of selfMicros) {
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parentOf.get(id)) {
      const { functionName, url } = byId.get(id)!.callFrame;
      const stage = STAGES.find((candidate) => candidate.matches(functionName, url));
      if (stage && !seen.has(stage.name)) {
        seen.add(stage.name);
        times.set(stage.name, (times.get(stage.name) ?? 0) + micros);
      }
    }
  }
  return times;
}

function selfTimeByNode(
  profile: CpuProfile,
  window?: { startedMicros: number; endedMicros: number },
): Map<number, number> {
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.startedMicros || at > window.endedMicros)) return;
    selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + delta);
  });
  return selfMicros;
}

/**
 * Self time by function and by module, from a `node --cpu-prof` file; only the samples taken
 * within `window` (monotonic microseconds, the profile's own clock on Linux) when given, so that
 * start-up and shutdown do not count. Falls back to every sample if the clocks do not line up.
 */
export function summariseCpuProfile(
  path: string,
  window?: { startedMicros: number; endedMicros: number },
  top = 15,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let selfMicros = selfTimeByNode(profile, window);
  let windowed = window !== undefined;
  if (selfMicros.size === 0) {
    selfMicros = selfTimeByNode(profile);
    windowed = false;
  }
  const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let idle = 0;
  for (const [nodeId, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(nodeId)!.callFrame;
    if (functionName === '(idle)') idle += micros;
    const name = url
      ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`
      : functionName || '(anonymous)';
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const module = moduleOf(url, functionName);
    modules.set(module, (modules.get(module) ?? 0) + micros);
  }
  const ranked = (entries: Map<string, number>): ProfileEntry[] =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, percent: (micros / total) * 100 }));
  const busy = total - idle;
  const stages = [...stageTimes(profile, selfMicros, byId)]
    .sort((a, b) => b[1] - a[1])
    .map(([name, micros]) => ({ name, percent: (micros / busy) * 100 }));
  return {
    stages,
    totalSeconds: total / 1e6,
    windowed,
    idlePercent: (idle / total) * 100,
    topFunctions: ranked(functions),
    topModules: ranked(modules),
  };
}
