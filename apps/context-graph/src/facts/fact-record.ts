import type { FactBody, FactView, JsonValue } from '@baton/contracts';
import type { GraphModel } from '../graph/graph-model';

/** A validated fact plus its provenance, as the ingestion paths (Kafka, HTTP, system events) hand it to the store. */
export interface FactInput {
  id: string;
  body: FactBody;
  occurredAt: string;
  source: string;
  agentId?: string;
  workflowId?: string;
}

/** Primitive properties only: Neo4j stores no maps, so the value travels as JSON text. */
export interface FactRow {
  uid: string;
  aboutUid: string;
  about: { kind: string; id: string };
  rel: { type: string; toUid: string; toKind: string; toId: string } | null;
  supersedesUid: string | null;
  props: Record<string, string | number | string[] | null>;
}

export function toFactRow(model: GraphModel, fact: FactInput, recordedAt: number): FactRow {
  const { body } = fact;
  const uid = model.factUid(fact.id);
  const aboutUid = model.entityUid(body.about);
  const valueJson = body.value === undefined ? null : JSON.stringify(body.value);
  const searchParts = [body.about.id, body.attribute, valueText(body.value), body.text, body.relationship?.type, body.relationship?.to.id];
  return {
    uid,
    aboutUid,
    about: body.about,
    rel: body.relationship
      ? {
          type: body.relationship.type,
          toUid: model.entityUid(body.relationship.to),
          toKind: body.relationship.to.kind,
          toId: body.relationship.to.id,
        }
      : null,
    supersedesUid: body.supersedes === undefined ? null : model.factUid(body.supersedes),
    props: {
      uid,
      ns: model.namespace,
      id: fact.id,
      aboutUid,
      aboutKind: body.about.kind,
      aboutId: body.about.id,
      attribute: body.attribute ?? null,
      valueJson,
      text: body.text ?? null,
      relType: body.relationship?.type ?? null,
      relToKind: body.relationship?.to.kind ?? null,
      relToId: body.relationship?.to.id ?? null,
      confidence: body.confidence,
      scopes: [...new Set(body.scopes ?? [])].sort(),
      occurredAt: Date.parse(fact.occurredAt),
      recordedAt,
      validUntil: body.validUntil === undefined ? null : Date.parse(body.validUntil),
      source: fact.source,
      agentId: fact.agentId ?? null,
      workflowId: fact.workflowId ?? null,
      sourceEvent: body.sourceEvent ?? null,
      search: searchParts.filter((part): part is string => typeof part === 'string' && part !== '').join(' \n'),
    },
  };
}

function valueText(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

type Props = Record<string, unknown>;

/** A (:Fact) node's properties back to the view queries return and updates push. */
export function toFactView(props: Props): FactView {
  const str = (key: string): string | undefined => (typeof props[key] === 'string' ? (props[key] as string) : undefined);
  const num = (key: string): number | undefined => (typeof props[key] === 'number' ? (props[key] as number) : undefined);
  const iso = (key: string): string | undefined => {
    const value = num(key);
    return value === undefined ? undefined : new Date(value).toISOString();
  };
  const relType = str('relType');
  const relToKind = str('relToKind');
  const relToId = str('relToId');
  const valueJson = str('valueJson');
  return {
    id: str('id') ?? '',
    about: { kind: str('aboutKind') ?? '', id: str('aboutId') ?? '' },
    ...(str('attribute') !== undefined ? { attribute: str('attribute') } : {}),
    ...(valueJson !== undefined ? { value: JSON.parse(valueJson) as JsonValue } : {}),
    ...(relType && relToKind && relToId ? { relationship: { type: relType, to: { kind: relToKind, id: relToId } } } : {}),
    ...(str('text') !== undefined ? { text: str('text') } : {}),
    confidence: num('confidence') ?? 0,
    scopes: Array.isArray(props['scopes']) ? (props['scopes'] as string[]) : [],
    occurredAt: iso('occurredAt') ?? '',
    recordedAt: iso('recordedAt') ?? '',
    ...(iso('validUntil') !== undefined ? { validUntil: iso('validUntil') } : {}),
    ...(str('supersededBy') !== undefined ? { supersededBy: str('supersededBy') } : {}),
    provenance: {
      source: str('source') ?? '',
      ...(str('agentId') !== undefined ? { agentId: str('agentId') } : {}),
      ...(str('workflowId') !== undefined ? { workflowId: str('workflowId') } : {}),
      ...(str('sourceEvent') !== undefined ? { sourceEvent: str('sourceEvent') } : {}),
    },
  };
}
