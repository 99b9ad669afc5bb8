import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContractValidationError } from '@baton/contracts';
import { SHIPPED_AGENTS_DIR } from '../config/runner-config';
import { loadAgentDefinitions } from './agent-definition';

function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'agents-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function issuesOf(dir: string): readonly string[] {
  try {
    loadAgentDefinitions(dir);
  } catch (error) {
    if (error instanceof ContractValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected the definitions to be rejected');
}

const valid = `
id: triager
team: sre
capabilities: [triage]
scopes: [public, incidents]
model: default
systemPrompt: You triage.
tools: [query_context, publish_fact]
outputSchema: { type: object, required: [severity], properties: { severity: { enum: [low, high] } } }
confidence: { from: fixed, value: 0.7 }
maxConcurrency: 4
`;

describe('agent definitions', () => {
  it('ships definitions hosting every capability the sequential slice and scenarios rely on', () => {
    const agents = loadAgentDefinitions(SHIPPED_AGENTS_DIR);
    const capabilities = agents.flatMap((agent) => agent.capabilities);
    for (const needed of [
      'extraction',
      'classification',
      'compliance-check',
      'sign-off',
      'echo',
      'analysis',
      'summarize',
      'diagnosis',
      'impact-analysis',
      'report',
    ]) {
      expect(capabilities).toContain(needed);
    }
    expect(agents.every((agent) => agent.model === 'builtin')).toBe(true);
  });

  it('loads YAML and JSON with defaults filled in', () => {
    const dir = folderWith({
      'triager.yaml': valid,
      'echo.json': JSON.stringify({
        id: 'echoer',
        team: 'ops',
        capabilities: ['echo'],
        model: 'builtin',
        systemPrompt: 'x',
        outputSchema: {},
        maxConcurrency: 1,
      }),
    });
    const [echoer, triager] = loadAgentDefinitions(dir);
    expect(triager).toMatchObject({
      id: 'triager',
      tools: ['query_context', 'publish_fact'],
      maxRepairAttempts: 2,
      confidence: { from: 'fixed', value: 0.7 },
    });
    expect(echoer).toMatchObject({
      id: 'echoer',
      scopes: [],
      tools: [],
      confidence: { from: 'output', field: 'confidence', default: 0.5 },
    });
    expect(echoer?.promptTemplate).toContain('{{input}}');
  });

  it('rejects the whole set, naming file and path of every problem', () => {
    const dir = folderWith({
      'a.yaml': valid.replace('maxConcurrency: 4', 'maxConcurrency: 0').replace('[query_context, publish_fact]', '[query_context, rm_rf]'),
      'b.yaml': valid,
      'c.yaml': valid.replace('systemPrompt: You triage.\n', '').replace('severity: { enum: [low, high] }', 'severity: { pattern: "x" }'),
      'd.yml': 'id: [unclosed',
    });
    const issues = issuesOf(dir);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a\.yaml: tools\[1\]: /),
        expect.stringMatching(/^a\.yaml: maxConcurrency: /),
        expect.stringMatching(/^c\.yaml: systemPrompt: required/),
        expect.stringMatching(/^c\.yaml: outputSchema\.properties\.severity: .*pattern/),
        expect.stringMatching(/^d\.yml: not valid YAML\/JSON/),
      ]),
    );
  });

  it('rejects a tool granted twice, which a provider would refuse on every call', () => {
    expect(issuesOf(folderWith({ 'a.yaml': valid.replace('[query_context, publish_fact]', '[query_context, query_context]') }))).toEqual([
      'a.yaml: tools: lists a tool more than once',
    ]);
  });

  it('rejects two definitions with one id', () => {
    expect(issuesOf(folderWith({ 'one.yaml': valid, 'two.yaml': valid }))).toEqual([
      'two.yaml: id: "triager" is already defined in one.yaml',
    ]);
  });

  it('rejects an empty folder', () => {
    expect(issuesOf(folderWith({}))[0]).toMatch(/no agent definition files/);
  });
});
