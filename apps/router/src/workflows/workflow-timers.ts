import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { WorkflowsService } from './workflows.service';

/**
 * Drives time: tasks of dead agents, attempts past their deadline, retries whose
 * backoff elapsed, and steps waiting for an agent.
 * The instants live in Postgres, so a restarted router picks up where the
 * previous one stopped; concurrent routers are safe because each transition
 * re-checks the row under the workflow lock.
 */
@Injectable()
export class WorkflowTimers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkflowTimers.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly workflows: WorkflowsService,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.config.timerIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.workflows.reassignFromDeadAgents();
      await this.workflows.expireOverdueAttempts();
      await this.workflows.dispatchDueRetries();
      await this.workflows.assignWaiting();
    } catch (error) {
      this.logger.error({ msg: 'timer tick failed; next tick retries', error: String(error) });
    }
  }
}
