import type { z } from 'zod';
import { escapeUnstorableText } from '../messages/common';

/** A contract violation, with every issue named by its path (`payload.steps[2].capability: required`). */
export class ContractValidationError extends Error {
  override readonly name = 'ContractValidationError';
  constructor(
    readonly issues: readonly string[],
    context: string,
  ) {
    super(`${context}: ${issues.join('; ')}`);
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      // A key may hold the very NUL or lone surrogate being refused; quoted raw, it would make the error itself unstorable.
      const name = escapeUnstorableText(String(segment));
      out += out === '' ? name : `.${name}`;
    }
  }
  return out === '' ? '(root)' : out;
}

export function describeIssues(error: z.ZodError, prefix?: string): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(prefix ? [prefix, ...issue.path] : issue.path);
    // zod 4 reports a missing field as an invalid type that "received undefined".
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    // Custom messages may quote the input (`unknown reference "..."`), so they are escaped like paths.
    const message = missing ? 'required' : escapeUnstorableText(issue.message);
    return `${path}: ${message}`;
  });
}
