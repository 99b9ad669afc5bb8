import 'reflect-metadata';
import { startTelemetry, JsonLogger } from '@baton/telemetry';

// Telemetry starts before Nest loads so every span has the SDK behind it.
const telemetry = startTelemetry({ serviceName: 'context-graph' });

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from './config/context-graph-config';
import { contextGraphDocumentConfig } from './openapi/openapi-document';

async function bootstrap(): Promise<void> {
  const logger = new JsonLogger({ service: 'context-graph' });
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger });
  // Facts are bounded (16 KiB values, 4 KB text); a larger body is refused before parsing.
  app.useBodyParser('json', { limit: '64kb' });
  const config = app.get<ContextGraphConfig>(CONTEXT_GRAPH_CONFIG);
  app.useLogger(new JsonLogger({ service: 'context-graph', level: config.logLevel }));
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, contextGraphDocumentConfig()));
  await app.listen(config.port, config.host);
  logger.log({ msg: 'context-graph listening', port: config.port }, 'bootstrap');
  process.once('beforeExit', () => void telemetry.shutdown());
}

bootstrap().catch((error: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'context-graph',
      msg: 'context-graph failed to start',
      error: String(error),
    }),
  );
  process.exit(1);
});
