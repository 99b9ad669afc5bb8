import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDataSourceReady } from '../data-source/initialize-data-source';

/** For `/health/ready`: the DataSource is initialized and Postgres answers. */
@Injectable()
export class PersistenceHealth {
  constructor(private readonly dataSource: DataSource) {}

  isReady(): Promise<boolean> {
    return isDataSourceReady(this.dataSource);
  }
}
