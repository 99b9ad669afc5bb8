import { stringify } from 'yaml';
import { type AsyncApiDocument, buildAsyncApiDocument } from './asyncapi-document';

/** Where the generated document is checked in, relative to the repository root. */
export const ASYNCAPI_FILE = 'libs/contracts/asyncapi.yaml';
export const ASYNCAPI_GENERATE_COMMAND = 'npm run asyncapi';

/**
 * The document as YAML, byte-for-byte reproducible: no line folding (long
 * patterns stay on one line) and no anchors for repeated objects.
 */
export function renderAsyncApiYaml(document: AsyncApiDocument = buildAsyncApiDocument()): string {
  const header = `# Generated from libs/contracts by \`${ASYNCAPI_GENERATE_COMMAND}\`. Do not edit by hand.\n`;
  return header + stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}
