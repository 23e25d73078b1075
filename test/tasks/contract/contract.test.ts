// Runs the port contract (suite.ts) against every backend: a SQLite file, and a real PostgreSQL cluster.
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteBackend } from '../../../src/tasks/store.ts';
import { postgresBackend } from '../../../src/tasks/pg/store.ts';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { contractSuite } from './suite.ts';

contractSuite('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-contract-'));
  return {
    open: async () => sqliteBackend(join(dir, 'tasks.sqlite')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

let pgServer: TestPostgres;
before(async () => {
  pgServer = await startPostgres();
});
after(async () => {
  await pgServer?.stop();
});

contractSuite('postgres', async () => {
  const url = await pgServer.newDatabase();
  return {
    open: () => postgresBackend(url, { poolSize: 4 }),
    cleanup: async () => undefined,
  };
});
