import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ContractValidationError, describeIssues } from '@baton/contracts';

/**
 * A set of access policies. Until the governance service publishes them on
 * baton.governance.policies, services load one from a file (JSON or YAML).
 *
 * A pattern is an exact name, `*` (anything) or `prefix.*` (the prefix and
 * everything under it).
 */
const patternSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._:-]*(\.\*)?)$/, 'must be a name, "*" or "prefix.*"');

export const policySchema = z
  .object({
    id: z.string().min(1).max(200),
    effect: z.enum(['allow', 'deny']),
    /** Defaults to every action. */
    actions: z.array(patternSchema).min(1).default(['*']),
    subjects: z
      .object({ agents: z.array(patternSchema).min(1).optional(), teams: z.array(patternSchema).min(1).optional() })
      .strict()
      .refine((s) => s.agents !== undefined || s.teams !== undefined, { message: 'name agents or teams (use ["*"] for everyone)' }),
    scopes: z.array(patternSchema).min(1),
    description: z.string().max(2000).optional(),
  })
  .strict();

export const policySetSchema = z
  .object({ version: z.literal(1), policies: z.array(policySchema).max(10_000) })
  .strict()
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.policies.forEach((policy, index) => {
      if (seen.has(policy.id))
        ctx.addIssue({ code: 'custom', path: ['policies', index, 'id'], message: `duplicate policy id "${policy.id}"` });
      seen.add(policy.id);
    });
  });

export type Policy = z.infer<typeof policySchema>;
export type PolicySet = z.infer<typeof policySetSchema>;

/** Nothing is allowed: the default when no policy is configured. */
export const EMPTY_POLICY_SET: PolicySet = { version: 1, policies: [] };

/** Parses a policy document (JSON or YAML text, or a parsed value); problems are named by path. */
export function parsePolicySet(source: unknown, origin: string): PolicySet {
  let value = source;
  if (typeof source === 'string') {
    try {
      value = parseYaml(source, { maxAliasCount: 100 }) as unknown;
    } catch (error) {
      throw new ContractValidationError(
        [`(root): not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`],
        `invalid policy set in ${origin}`,
      );
    }
  }
  const parsed = policySetSchema.safeParse(value);
  if (!parsed.success) throw new ContractValidationError(describeIssues(parsed.error), `invalid policy set in ${origin}`);
  return parsed.data;
}
