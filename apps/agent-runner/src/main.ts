import 'reflect-metadata';
import { JsonLogger, startTelemetry } from '@baton/telemetry';

// Telemetry starts before Nest loads so every span has the SDK behind it.
const telemetry = startTelemetry({ serviceName: 'agent-runner' });

import { NestFactory } from '@nestjs/core';
import { BatonKafkaTransport } from '@baton/bus';
import { AppModule } from './app.module';
import { RUNNER_CONFIG, type RunnerConfig } from './config/runner-config';

async function bootstrap(): Promise<void> {
  const logger = new JsonLogger({ service: 'agent-runner' });
  const app = await NestFactory.create(AppModule, { logger });
  const config = app.get<RunnerConfig>(RUNNER_CONFIG);
  app.useLogger(new JsonLogger({ service: 'agent-runner', level: config.logLevel }));
  app.enableShutdownHooks();
  app.connectMicroservice({ strategy: app.get(BatonKafkaTransport) });
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  logger.log({ msg: 'agent-runner listening', port: config.port, instanceId: config.instanceId }, 'bootstrap');
  process.once('beforeExit', () => void telemetry.shutdown());
}

bootstrap().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', service: 'agent-runner', msg: 'agent-runner failed to start', error: String(error) }));
  process.exit(1);
});
