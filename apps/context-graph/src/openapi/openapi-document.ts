import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { stringify } from 'yaml';
import { AppModule } from '../app.module';

/**
 * The context-graph OpenAPI document, generated from its controllers. Nest's preview
 * mode builds the module graph without running providers, so no database or
 * broker is needed to produce it.
 */
export async function buildContextGraphOpenApiDocument(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule, { preview: true, logger: false, abortOnError: false });
  try {
    return SwaggerModule.createDocument(app, contextGraphDocumentConfig());
  } finally {
    await app.close();
  }
}

export function contextGraphDocumentConfig(): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Baton context-graph')
    .setDescription(
      "The shared context graph: entities, relationships, facts. Every route except /health/* needs an API key; the key's configured scopes decide which facts it reads.",
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key from BATON_API_KEYS' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
}

/** The checked-in form: plain YAML without anchors, so diffs read like the document. */
export function renderOpenApiYaml(document: OpenAPIObject): string {
  return stringify(document, { aliasDuplicateObjects: false });
}
