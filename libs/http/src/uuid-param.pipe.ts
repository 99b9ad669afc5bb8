import type { PipeTransform } from '@nestjs/common';
import { ContractValidationError } from '@baton/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHOWN_CHARS = 64;

/**
 * A path parameter that must be a uuid: `@Param('id', new UuidParam('id'))`. Anything else is a 400
 * `validation_failed` whose issue names the parameter (`id: must be a uuid, got "abc"`), where Nest's
 * ParseUUIDPipe says only "uuid is expected".
 */
export class UuidParam implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (UUID.test(value)) return value;
    const shown = value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value;
    throw new ContractValidationError([`${this.name}: must be a uuid, got ${JSON.stringify(shown)}`], 'invalid path parameter');
  }
}
