import 'reflect-metadata';
import { startTelemetry, JsonLogger } from '@baton/telemetry';

// Telemetry starts before Nest loads so every span has the SDK behind it.
const telemetry = startTelemetry({ serviceName: 'router' });

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { BatonKafkaTransport } from '@baton/bus';
import { AppModule } from './app.module';
import { ROUTER_CONFIG, type RouterConfig } from './config/router-config';
import { routerDocumentConfig } from './openapi/openapi-document';

async function bootstrap(): Promise<void> {
  const logger = new JsonLogger({ service: 'router' });
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger });
  const config = app.get<RouterConfig>(ROUTER_CONFIG);
  // Room for the largest input and definition plus the envelope around them, so the field checks (413 naming the field) get to run.
  const slack = 64 * 1024;
  app.useBodyParser('json', { limit: config.maxInputBytes + config.maxDefinitionBytes + slack });
  // Definitions may be posted as YAML.
  app.useBodyParser('text', { type: ['application/yaml', 'application/x-yaml', 'text/yaml'], limit: config.maxDefinitionBytes + slack });
  app.useLogger(new JsonLogger({ service: 'router', level: config.logLevel }));
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, routerDocumentConfig()));
  app.connectMicroservice({ strategy: app.get(BatonKafkaTransport) });
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  logger.log({ msg: 'router listening', port: config.port }, 'bootstrap');
  process.once('beforeExit', () => void telemetry.shutdown());
}

bootstrap().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', service: 'router', msg: 'router failed to start', error: String(error) }));
  process.exit(1);
});
