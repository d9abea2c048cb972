import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../devstack';
import { unavailableDependency } from '../api/dependency-errors';
import { problemHandler } from '../api/problem';
import { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { createLogger } from '../infra/logger';
import { request } from './helpers/http';

/** What a promise rejects with; the test fails if it resolves. */
async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A TCP server that does `onSocket` with each connection: stay silent, hang up, ... */
async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** An S3 endpoint that answers every request with this status and S3 error code, as S3 itself words them. */
async function s3Answering(status: number, code: string): Promise<{ store: S3ObjectStore; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const store = s3Store(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return { store, close: () => (store.destroy(), server.close()) };
}

const s3Store = (endpoint: string) =>
  new S3ObjectStore({
    endpoint,
    region: 'us-east-1',
    bucket: 'b',
    accessKeyId: 'k',
    secretAccessKey: 's',
    forcePathStyle: true,
  });

const query = (connectionString: string, opts: pg.PoolConfig = {}) => {
  const pool = new pg.Pool({ connectionString, ...opts });
  pool.on('error', () => undefined);
  return pool.query('SELECT 1').finally(() => pool.end().catch(() => undefined));
};

describe('which errors mean "a dependency is away" (503) rather than a bug (500)', () => {
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort();
  });

  describe('Postgres', () => {
    let admin: pg.Client;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: inject('stack').databaseUrl });
      await admin.connect();
    });
    afterAll(async () => admin?.end());

    it('a server not listening', async () => {
      const err = await rejection(query(`postgres://x@127.0.0.1:${closedPort}/x`));
      expect(unavailableDependency(err)).toBe('a backing service');
    });

    it('a session terminated by the server (57P01, as at shutdown)', async () => {
      const victim = new pg.Client({ connectionString: inject('stack').databaseUrl });
      victim.on('error', () => undefined);
      await victim.connect();
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const sleeping = rejection(victim.query('SELECT pg_sleep(30)'));
      await new Promise((r) => setTimeout(r, 200));
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const err = await sleeping;
      expect((err as { code?: string }).code).toBe('57P01');
      expect(unavailableDependency(err)).toBe('the database');
      await victim.end().catch(() => undefined);
    });

    it('a server that accepts and never answers: the pool gives up at its connection timeout', async () => {
      const silent = await tcpServer(() => undefined);
      try {
        const err = await rejection(
          query(`postgres://x@127.0.0.1:${silent.port}/x`, { connectionTimeoutMillis: 300 }),
        );
        expect(unavailableDependency(err)).toBe('the database');
      } finally {
        silent.close();
      }
    });

    it('a connection that drops mid-handshake', async () => {
      const hangUp = await tcpServer((socket) => socket.once('data', () => socket.destroy()));
      try {
        const err = await rejection(query(`postgres://x@127.0.0.1:${hangUp.port}/x`));
        expect((err as Error).message).toMatch(/Connection terminated/);
        expect(unavailableDependency(err)).toBe('the database');
      } finally {
        hangUp.close();
      }
    });

    it('but not an error in the query or the data', async () => {
      const syntax = await rejection(admin.query('SELEC 1'));
      const division = await rejection(admin.query('SELECT 1/0'));
      expect((syntax as { code?: string }).code).toBe('42601');
      expect(unavailableDependency(syntax)).toBeUndefined();
      expect(unavailableDependency(division)).toBeUndefined();
    });
  });

  describe('S3', () => {
    it('a store not listening', async () => {
      const store = s3Store(`http://127.0.0.1:${closedPort}`);
      const err = await rejection(store.head('k'));
      store.destroy();
      expect(unavailableDependency(err)).toBe('object storage');
    });

    it.each([
      [503, 'SlowDown'],
      [503, 'ServiceUnavailable'],
      [500, 'InternalError'],
    ])('a %i %s answer, after the SDK has retried it', async (status, code) => {
      const s3 = await s3Answering(status, code);
      try {
        const err = await rejection(s3.store.read('k'));
        expect((err as Error).name).toBe(code);
        expect(unavailableDependency(err)).toBe('object storage');
      } finally {
        s3.close();
      }
    });

    it('but not a refusal or a missing key', async () => {
      for (const [status, code] of [
        [403, 'AccessDenied'],
        [404, 'NoSuchKey'],
      ] as const) {
        const s3 = await s3Answering(status, code);
        try {
          const err = await rejection(s3.store.read('k'));
          expect((err as Error).name).toBe(code);
          expect(unavailableDependency(err)).toBeUndefined();
        } finally {
          s3.close();
        }
      }
    });
  });

  describe('Temporal', () => {
    it('UNAVAILABLE from a server not listening, raw and wrapped by the client', async () => {
      // No retry interceptor: the first UNAVAILABLE is the answer.
      const connection = Connection.lazy({ address: `127.0.0.1:${closedPort}`, interceptors: [] });
      try {
        const raw = await rejection(connection.workflowService.getSystemInfo({}));
        expect((raw as { code?: number }).code).toBe(14);
        expect(unavailableDependency(raw)).toBe('the workflow service');
        const wrapped = await rejection(new Client({ connection }).workflow.getHandle('w').signal('s'));
        expect((wrapped as Error).name).toBe('ServiceError');
        expect(unavailableDependency(wrapped)).toBe('the workflow service');
      } finally {
        await connection.close();
      }
    });

    it('DEADLINE_EXCEEDED when the call outlives its deadline', async () => {
      const connection = Connection.lazy({ address: `127.0.0.1:${closedPort}` });
      try {
        const err = await rejection(
          connection.withDeadline(Date.now() + 300, () => connection.workflowService.getSystemInfo({})),
        );
        expect((err as { code?: number }).code).toBe(4);
        expect(unavailableDependency(err)).toBe('the workflow service');
      } finally {
        await connection.close();
      }
    });

    it('but not an answer such as "no such workflow"', async () => {
      const connection = await Connection.connect({ address: inject('stack').temporalAddress });
      try {
        const err = await rejection(new Client({ connection }).workflow.getHandle('no-such').signal('s'));
        expect((err as Error).name).toBe('WorkflowNotFoundError');
        expect(unavailableDependency(err)).toBeUndefined();
      } finally {
        await connection.close();
      }
    });
  });

  it('plain bugs stay bugs', () => {
    expect(
      unavailableDependency(new TypeError("Cannot read properties of undefined (reading 'x')")),
    ).toBeUndefined();
    expect(unavailableDependency(new Error('boom'))).toBeUndefined();
    expect(unavailableDependency('a string')).toBeUndefined();
    expect(unavailableDependency(null)).toBeUndefined();
  });

  it('the API answers a dependency error 503 problem+json with Retry-After, and a bug 500', async () => {
    const refused = await rejection(query(`postgres://x@127.0.0.1:${closedPort}/x`));
    const app = express();
    app.get('/away', () => {
      throw refused;
    });
    app.get('/bug', () => {
      throw new Error('boom');
    });
    app.use(problemHandler(createLogger('test', 'silent')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const away = await request('GET', `${base}/away`);
      expect(away.status).toBe(503);
      expect(away.headers.get('retry-after')).toBe('5');
      expect(away.headers.get('content-type')).toContain('application/problem+json');
      expect(away.body).toMatchObject({ status: 503, detail: expect.stringContaining('unavailable') });
      expect((await request('GET', `${base}/bug`)).status).toBe(500);
    } finally {
      server.close();
    }
  });
});
