import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { RouterConfig } from '../config/router-config';
import { DefinitionsService } from './definitions.service';

describe('DefinitionsService.loadFolder', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'baton-definitions-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses two files of the same name, naming both, and registers nothing', async () => {
    await writeFile(
      join(folder, 'a.json'),
      JSON.stringify({ name: 'review', pattern: 'sequential', steps: [{ id: 'x', capability: 'c' }] }),
    );
    await writeFile(join(folder, 'b.yaml'), ['name: review', 'pattern: sequential', 'steps:', '  - id: y', '    capability: c'].join('\n'));
    const transaction = jest.fn();
    const service = new DefinitionsService({ transaction } as unknown as DataSource, { definitionsDir: folder } as RouterConfig);

    await expect(service.loadFolder(folder)).rejects.toThrow(
      'invalid workflow definition in b.yaml: name: "review" is also defined in a.json (one file per name)',
    );
    expect(transaction).not.toHaveBeenCalled();
  });
});
