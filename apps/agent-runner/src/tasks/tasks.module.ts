import { Module } from '@nestjs/common';
import { HeartbeatService } from '../heartbeats/heartbeat.service';
import { TasksConsumer } from './tasks.consumer';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksConsumer],
  providers: [TasksService, HeartbeatService],
})
export class TasksModule {}
