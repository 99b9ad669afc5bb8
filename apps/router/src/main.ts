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
  app.useBodyParser('json', { limit: '1mb' });
  // Definitions may be posted as YAML.
  app.useBodyParser('text', { type: ['application/yaml', 'application/x-yaml', 'text/yaml'], limit: '1mb' });
  const config = app.get<RouterConfig>(ROUTER_CONFIG);
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
