import { parse as parseYaml } from 'yaml';
import { ContractValidationError, describeIssues, workflowDefinitionSchema, type WorkflowDefinition } from '@baton/contracts';

/**
 * Turns a definition document (JSON or YAML text, or an already parsed value)
 * into a validated definition; every problem is named by its path, prefixed
 * with where the document came from.
 */
export function parseDefinition(source: unknown, origin: string): WorkflowDefinition {
  let value = source;
  if (typeof source === 'string') {
    try {
      value = parseYaml(source, { maxAliasCount: 100 }) as unknown;
    } catch (error) {
      throw new ContractValidationError(
        [`(root): not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`],
        `invalid workflow definition in ${origin}`,
      );
    }
  }
  const parsed = workflowDefinitionSchema.safeParse(value);
  if (!parsed.success) throw new ContractValidationError(describeIssues(parsed.error), `invalid workflow definition in ${origin}`);
  return parsed.data;
}

export const DEFINITION_FILE = /\.(json|ya?ml)$/i;
