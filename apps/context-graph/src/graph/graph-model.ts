import { Inject, Injectable } from '@nestjs/common';
import { ContractValidationError, type EntityRef, type FactBody } from '@baton/contracts';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';

/** Which entity kinds and relationship types this deployment accepts (built-in plus configured). */
@Injectable()
export class GraphModel {
  readonly namespace: string;

  constructor(@Inject(CONTEXT_GRAPH_CONFIG) private readonly config: ContextGraphConfig) {
    this.namespace = config.namespace;
  }

  entityUid(entity: EntityRef): string {
    return `${this.namespace}|${entity.kind}|${entity.id}`;
  }

  factUid(factId: string): string {
    return `${this.namespace}|${factId}`;
  }

  /** Rejects a fact about an unknown kind or with an unknown relationship type, naming the field. */
  assertKnown(fact: FactBody, path = 'payload'): void {
    const issues: string[] = [];
    if (!this.config.entityKinds.has(fact.about.kind)) issues.push(`${path}.about.kind: ${this.unknownKind(fact.about.kind)}`);
    if (fact.relationship) {
      if (!this.config.relationshipTypes.has(fact.relationship.type)) {
        issues.push(
          `${path}.relationship.type: unknown relationship type ${fact.relationship.type} (known: ${[...this.config.relationshipTypes].join(', ')})`,
        );
      }
      if (!this.config.entityKinds.has(fact.relationship.to.kind)) {
        issues.push(`${path}.relationship.to.kind: ${this.unknownKind(fact.relationship.to.kind)}`);
      }
      if (fact.relationship.to.kind === fact.about.kind && fact.relationship.to.id === fact.about.id) {
        issues.push(`${path}.relationship.to: an entity cannot be related to itself`);
      }
    }
    if (issues.length > 0) throw new ContractValidationError(issues, 'fact rejected');
  }

  assertKnownEntity(entity: EntityRef, path: string): void {
    if (!this.config.entityKinds.has(entity.kind)) {
      throw new ContractValidationError([`${path}.kind: ${this.unknownKind(entity.kind)}`], 'query rejected');
    }
  }

  private unknownKind(kind: string): string {
    return `unknown entity kind ${kind} (known: ${[...this.config.entityKinds].join(', ')}; add kinds with CONTEXT_ENTITY_KINDS)`;
  }
}
