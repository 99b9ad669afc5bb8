import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ContractValidationError, describeIssues } from '@baton/contracts';
import { DETERMINISTIC_MODEL } from './providers/deterministic-model';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"');
const modelName = z
  .string()
  .min(1)
  .regex(/^[^\s]+$/, 'must not contain spaces');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const priceSchema = z
  .object({
    /** US dollars per one million input (prompt) tokens. */
    inputUsdPer1M: z.number().nonnegative(),
    /** US dollars per one million output (completion) tokens. */
    outputUsdPer1M: z.number().nonnegative(),
  })
  .strict();

const httpProviderFields = {
  baseUrl: z.url(),
  /** Name of the environment variable holding the API key; the key itself never sits in the file. */
  apiKeyEnv: envName.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs: z.number().int().positive().default(60_000),
  maxRetries: z.number().int().min(0).max(10).default(2),
  models: z.record(modelName, priceSchema),
};

const providerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('openai'), ...httpProviderFields }).strict(),
  z.object({ kind: z.literal('anthropic'), ...httpProviderFields, anthropicVersion: z.string().default('2023-06-01') }).strict(),
  z
    .object({
      kind: z.literal('builtin'),
      timeoutMs: z.number().int().positive().default(60_000),
      maxRetries: z.number().int().min(0).max(10).default(0),
      models: z.record(modelName, priceSchema),
    })
    .strict(),
]);

export const gatewayConfigSchema = z
  .object({
    providers: z.record(name, providerSchema),
    /** alias -> ordered targets `provider/model`; the first that answers wins. */
    aliases: z.record(name, z.array(z.string().regex(/^[^/\s]+\/[^\s]+$/, 'must be "provider/model"')).min(1)),
    retry: z
      .object({
        baseDelayMs: z.number().int().nonnegative().default(250),
        maxDelayMs: z.number().int().nonnegative().default(10_000),
      })
      .strict()
      .default({ baseDelayMs: 250, maxDelayMs: 10_000 }),
  })
  .strict();

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
type ParsedConfig = z.output<typeof gatewayConfigSchema>;
export type ProviderConfig = ParsedConfig['providers'][string];
export type ModelPrice = z.output<typeof priceSchema>;

/** A validated configuration with API keys resolved from the environment. */
export interface GatewayConfig extends ParsedConfig {
  apiKeys: Record<string, string | undefined>;
}

/**
 * Validates a gateway configuration and resolves API keys from `env`. Every
 * problem is named by its path (`aliases.fast[1]: unknown provider "x"`), and
 * nothing is half-applied: either the whole configuration is valid or it throws.
 */
export function parseGatewayConfig(raw: unknown, env: Record<string, string | undefined> = {}): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ContractValidationError(describeIssues(parsed.error), 'invalid gateway configuration');
  const config = parsed.data;
  const issues: string[] = [];
  const apiKeys: Record<string, string | undefined> = {};
  for (const [providerName, provider] of Object.entries(config.providers)) {
    if (provider.kind === 'builtin' || !provider.apiKeyEnv) continue;
    const key = env[provider.apiKeyEnv];
    if (!key) issues.push(`providers.${providerName}.apiKeyEnv: environment variable ${provider.apiKeyEnv} is not set`);
    apiKeys[providerName] = key;
  }
  for (const [alias, targets] of Object.entries(config.aliases)) {
    targets.forEach((target, index) => {
      const [providerName, model] = splitTarget(target);
      const provider = config.providers[providerName];
      if (!provider) issues.push(`aliases.${alias}[${index}]: unknown provider "${providerName}"`);
      else if (!provider.models[model])
        issues.push(`aliases.${alias}[${index}]: provider "${providerName}" lists no model "${model}" (add it with its prices)`);
    });
  }
  if (issues.length > 0) throw new ContractValidationError(issues, 'invalid gateway configuration');
  return { ...config, apiKeys };
}

export function splitTarget(target: string): [provider: string, model: string] {
  const slash = target.indexOf('/');
  return [target.slice(0, slash), target.slice(slash + 1)];
}

/** Reads a YAML or JSON gateway configuration file (YAML is a superset of JSON). */
export function loadGatewayConfigFile(path: string, env: Record<string, string | undefined> = {}): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ContractValidationError([`(file): ${(error as Error).message}`], `invalid gateway configuration ${path}`);
  }
  return parseGatewayConfig(raw, env);
}

/** The configuration when none is given: only the built-in deterministic model, free. */
export function builtinGatewayConfig(): GatewayConfig {
  return parseGatewayConfig({
    providers: { builtin: { kind: 'builtin', models: { [DETERMINISTIC_MODEL]: { inputUsdPer1M: 0, outputUsdPer1M: 0 } } } },
    aliases: { builtin: [`builtin/${DETERMINISTIC_MODEL}`], default: [`builtin/${DETERMINISTIC_MODEL}`] },
  });
}
