import { Module } from '@nestjs/common';
import { DefinitionsController } from './definitions.controller';
import { SubmissionChecks } from '../workflows/submission-checks';
import { DefinitionsService } from './definitions.service';

@Module({
  controllers: [DefinitionsController],
  providers: [DefinitionsService, SubmissionChecks],
  exports: [DefinitionsService, SubmissionChecks],
})
export class DefinitionsModule {}
