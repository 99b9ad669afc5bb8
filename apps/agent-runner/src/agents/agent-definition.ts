import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ContractValidationError, describeIssues, identifierSchema } from '@baton/contracts';
import { TOOL_NAMES } from '../tools/tool-names';
import { outputSchemaSchema } from './output-schema';

/**
 * How a result's confidence is decided. `output`: the agent's answer carries it
 * in `field` (clamped to [0, 1]; `default` when absent or not a number), minus
 * `repairPenalty` per repair the answer needed. `fixed`: always `value`.
 */
const confidenceRuleSchema = z.discriminatedUnion('from', [
  z
    .object({
      from: z.literal('output'),
      field: z.string().min(1).default('confidence'),
      default: z.number().min(0).max(1).default(0.5),
      repairPenalty: z.number().min(0).max(1).default(0.1),
    })
    .strict(),
  z.object({ from: z.literal('fixed'), value: z.number().min(0).max(1) }).strict(),
]);

export const agentDefinitionSchema = z
  .object({
    id: identifierSchema,
    team: identifierSchema,
    description: z.string().optional(),
    capabilities: z.array(identifierSchema).min(1),
    /** Data scopes the agent holds; services holding data enforce them. */
    scopes: z.array(identifierSchema).default([]),
    /** A model alias from the gateway configuration. */
    model: z.string().min(1),
    systemPrompt: z.string().min(1),
    /** The user message; `{{capability}}`, `{{input}}` (JSON), `{{input.<path>}}`, `{{taskId}}`, `{{stepId}}` and `{{context}}` (shared context at dispatch) are filled in. */
    promptTemplate: z.string().min(1).default('Capability: {{capability}}\n\nInput (JSON):\n{{input}}'),
    tools: z
      .array(z.enum(TOOL_NAMES))
      .default([])
      // A provider refuses a request naming one tool twice (Anthropic does): every task of the agent would fail.
      .refine((tools) => new Set(tools).size === tools.length, { message: 'lists a tool more than once' }),
    outputSchema: outputSchemaSchema,
    confidence: confidenceRuleSchema.default({ from: 'output', field: 'confidence', default: 0.5, repairPenalty: 0.1 }),
    maxConcurrency: z.number().int().positive().max(1_000),
    maxRepairAttempts: z.number().int().min(0).max(5).default(2),
    maxToolRounds: z.number().int().min(0).max(20).default(6),
    maxTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();

export type AgentDefinition = z.output<typeof agentDefinitionSchema>;
export type ConfidenceRule = AgentDefinition['confidence'];

/** Parses one definition; issues are prefixed with `where` (the file name). */
export function parseAgentDefinition(raw: unknown, where: string): AgentDefinition {
  const parsed = agentDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ContractValidationError(
      describeIssues(parsed.error).map((issue) => `${where}: ${issue}`),
      'invalid agent definition',
    );
  }
  return parsed.data;
}

/**
 * Loads every `*.yaml`, `*.yml` and `*.json` file of a folder. All or nothing:
 * one bad file (or two agents with one id) rejects the whole set with every
 * problem named by file and path, so a runner never starts half-configured.
 */
export function loadAgentDefinitions(folder: string): AgentDefinition[] {
  let files: string[];
  try {
    files = readdirSync(folder)
      .filter((file) => ['.yaml', '.yml', '.json'].includes(extname(file)))
      .sort();
  } catch (error) {
    throw new ContractValidationError([`${folder}: ${(error as Error).message}`], 'cannot read agent definitions');
  }
  const issues: string[] = [];
  const definitions: AgentDefinition[] = [];
  const firstFileOf = new Map<string, string>();
  for (const file of files) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(join(folder, file), 'utf8'));
    } catch (error) {
      issues.push(`${file}: not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      const definition = parseAgentDefinition(raw, file);
      const earlier = firstFileOf.get(definition.id);
      if (earlier) issues.push(`${file}: id: "${definition.id}" is already defined in ${earlier}`);
      else firstFileOf.set(definition.id, file);
      definitions.push(definition);
    } catch (error) {
      if (!(error instanceof ContractValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (files.length === 0) issues.push(`${folder}: no agent definition files (*.yaml, *.yml, *.json)`);
  if (issues.length > 0) throw new ContractValidationError(issues, `invalid agent definitions in ${folder}`);
  return definitions;
}
