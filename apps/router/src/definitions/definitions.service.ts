import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ContractValidationError, type WorkflowDefinition } from '@baton/contracts';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { WorkflowDefinitionEntity, type DefinitionSource } from '../persistence/workflow-definition.entity';
import { DefinitionNotFoundError } from '../workflows/workflow-errors';
import { DEFINITION_FILE, parseDefinition } from './definition-parsing';

/**
 * Named workflow definitions: registered from the configured folder at
 * start-up (an invalid file, or two files of the same name, stop the start,
 * naming file and field) and over HTTP. Re-registering identical content keeps the version.
 */
@Injectable()
export class DefinitionsService implements OnModuleInit {
  private readonly logger = new Logger(DefinitionsService.name);

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.definitionsDir) await this.loadFolder(this.config.definitionsDir);
  }

  /** Validates every file first, so one bad file registers nothing. */
  async loadFolder(folder: string): Promise<WorkflowDefinition[]> {
    const files = (await readdir(folder)).filter((file) => DEFINITION_FILE.test(file)).sort();
    const definitions: WorkflowDefinition[] = [];
    // Two files of one name would replace each other and bump the version on every start.
    const fileOf = new Map<string, string>();
    for (const file of files) {
      const definition = parseDefinition(await readFile(join(folder, file), 'utf8'), file);
      const other = fileOf.get(definition.name);
      if (other !== undefined) {
        throw new ContractValidationError(
          [`name: "${definition.name}" is also defined in ${other} (one file per name)`],
          `invalid workflow definition in ${file}`,
        );
      }
      fileOf.set(definition.name, file);
      definitions.push(definition);
    }
    for (const definition of definitions) await this.register(definition, 'file');
    this.logger.log({ msg: 'workflow definitions loaded', folder, count: definitions.length });
    return definitions;
  }

  async register(definition: WorkflowDefinition, source: DefinitionSource): Promise<WorkflowDefinitionEntity> {
    return this.dataSource.transaction(async (manager) => {
      const existing = await manager.findOne(WorkflowDefinitionEntity, {
        where: { name: definition.name },
        lock: { mode: 'pessimistic_write' },
      });
      // jsonb does not keep key order, so content is compared canonically.
      if (existing && canonical(existing.definition) === canonical(definition)) return existing;
      if (!existing) {
        await manager.query(
          `INSERT INTO "${this.config.dbSchema}"."workflow_definitions" (name, version, definition, source)
           VALUES ($1, 1, $2, $3) ON CONFLICT (name) DO NOTHING`,
          [definition.name, JSON.stringify(definition), source],
        );
        return manager.findOneByOrFail(WorkflowDefinitionEntity, { name: definition.name });
      }
      existing.version += 1;
      existing.definition = definition;
      existing.source = source;
      return manager.save(existing);
    });
  }

  async list(trigger?: string): Promise<WorkflowDefinitionEntity[]> {
    const all = await this.dataSource.getRepository(WorkflowDefinitionEntity).find({ order: { name: 'ASC' } });
    if (trigger === undefined) return all;
    return all.filter((entity) => entity.definition.triggers?.some((t) => t.eventType === trigger));
  }

  async get(name: string): Promise<WorkflowDefinitionEntity> {
    const entity = await this.dataSource.getRepository(WorkflowDefinitionEntity).findOneBy({ name });
    if (!entity) throw new DefinitionNotFoundError(name);
    return entity;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
