import { parsePort } from '../infra/ports';

export interface StartOptions {
  /** Exit after the example workflow instead of running until Ctrl-C. */
  once: boolean;
  /** The key the demo calls the router with: the first of `apiKeys`. */
  apiKey: string;
  /** BATON_API_KEYS for the apps (comma-separated), the dev key when unset. */
  apiKeys: string;
  ports: { router: number; runner: number; contextGraph: number };
}

const USAGE = 'usage: npm start [-- --once]';
const DEFAULT_API_KEY = 'baton-local-dev-key-please-change';

/**
 * `npm start`'s arguments and environment, checked before anything starts: a
 * bad value stops it at once, naming the argument or variable.
 */
export function parseStartOptions(argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions {
  const unknown = argv.filter((arg) => arg !== '--once');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}; ${USAGE}`);
  const port = (name: string, fallback: number): number => parsePort(name, env[name]) ?? fallback;
  // The apps check their keys too, but only after the infrastructure is up; the demo needs the first one itself.
  const keys = env['BATON_API_KEYS'];
  const apiKeys = keys === undefined || keys.trim() === '' ? DEFAULT_API_KEY : keys;
  const apiKey = (apiKeys.split(',')[0] ?? '').trim();
  if (apiKey.length < 16) throw new Error('BATON_API_KEYS: the first key must be at least 16 characters');
  const ports = { router: port('ROUTER_PORT', 3100), runner: port('RUNNER_PORT', 3200), contextGraph: port('CONTEXT_GRAPH_PORT', 3300) };
  const taken = Object.entries(ports).filter(([, value], i, all) => all.findIndex(([, other]) => other === value) !== i);
  if (taken.length > 0) throw new Error(`ROUTER_PORT, RUNNER_PORT and CONTEXT_GRAPH_PORT must differ; ${taken[0]?.[1]} is given twice`);
  return { once: argv.includes('--once'), apiKey, apiKeys, ports };
}
