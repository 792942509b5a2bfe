// Setup's one download path against a local server: resume after a dropped connection (and after
// a quit), checksums, a host without Range, a slow link cancelled midway, the disk-space check.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, DownloadError, freeBytes } from '../../main/core/setup/download.js';
import {
  md5,
  sha256,
  startDownloadServer,
  type DownloadServer,
} from '../fixtures/download-server.js';
import { tempDir } from '../helpers/headless.js';

const body = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 7 + (i >> 9)) & 0xff));

describe('setup download', () => {
  let srv: DownloadServer;
  let dir: string;
  beforeAll(async () => {
    srv = await startDownloadServer();
    dir = tempDir('unamentis-dl-');
  });
  afterAll(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('downloads with progress and a matching sha256', async () => {
    srv.set('/ok.bin', { body });
    const seen: number[] = [];
    const r = await download({
      url: `${srv.url}/ok.bin`,
      dest: path.join(dir, 'ok.bin'),
      checksum: { algorithm: 'sha256', hex: sha256(body) },
      onProgress: (p) => seen.push(p.received),
    });
    expect(r).toMatchObject({ bytes: body.length, resumes: 0, cached: false });
    expect(fs.readFileSync(path.join(dir, 'ok.bin')).equals(body)).toBe(true);
    expect(seen.at(-1)).toBe(body.length);
    expect(fs.existsSync(path.join(dir, 'ok.bin.part'))).toBe(false);
    // Asked again: the file is there and checks out, nothing is fetched.
    const before = srv.requests.length;
    expect(
      (
        await download({
          url: `${srv.url}/ok.bin`,
          dest: path.join(dir, 'ok.bin'),
          checksum: { algorithm: 'sha256', hex: sha256(body) },
        })
      ).cached,
    ).toBe(true);
    expect(srv.requests.length).toBe(before);
  });

  it('a dropped connection resumes with a Range request where it stopped', async () => {
    srv.set('/drop.bin', { body, dropAfter: 250_000, dropTimes: 2 });
    const r = await download({
      url: `${srv.url}/drop.bin`,
      dest: path.join(dir, 'drop.bin'),
      checksum: { algorithm: 'md5', hex: md5(body) },
      retryDelayMs: 10,
    });
    expect(r.resumes).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'drop.bin')).equals(body)).toBe(true);
    const ranges = srv.requests.filter((q) => q.path === '/drop.bin').map((q) => q.range);
    expect(ranges).toEqual([null, 'bytes=250000-', 'bytes=500000-']);
  });

  it('a quit midway leaves the part file, and the next run continues from it', async () => {
    srv.set('/quit.bin', { body, dropAfter: 300_000 });
    const dest = path.join(dir, 'quit.bin');
    await expect(download({ url: `${srv.url}/quit.bin`, dest, retries: 0 })).rejects.toThrow(
      /failed after 1 attempts.*continues where it stopped/,
    );
    expect(fs.statSync(`${dest}.part`).size).toBe(300_000);
    const r = await download({
      url: `${srv.url}/quit.bin`,
      dest,
      checksum: { algorithm: 'sha256', hex: sha256(body) },
    });
    expect(r.resumes).toBe(1);
    expect(srv.requests.filter((q) => q.path === '/quit.bin').at(-1)!.range).toBe('bytes=300000-');
  });

  it('a wrong checksum is an error that names both sums, and the file is deleted', async () => {
    srv.set('/bad.bin', { body });
    const dest = path.join(dir, 'bad.bin');
    const err = await download({
      url: `${srv.url}/bad.bin`,
      dest,
      checksum: { algorithm: 'sha256', hex: 'ab'.repeat(32) },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('checksum');
    expect((err as Error).message).toContain(sha256(body));
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
  });

  it('a host that ignores Range sends the whole file again, and it is not appended twice', async () => {
    srv.set('/norange.bin', { body, dropAfter: 100_000, ignoreRange: true });
    const r = await download({
      url: `${srv.url}/norange.bin`,
      dest: path.join(dir, 'norange.bin'),
      checksum: { algorithm: 'sha256', hex: sha256(body) },
      retryDelayMs: 10,
    });
    expect(r.resumes).toBe(0);
    expect(r.bytes).toBe(body.length);
  });

  it('a slow link reports progress and is cancelled by the signal, keeping the part for later', async () => {
    srv.set('/slow.bin', { body, bytesPerSecond: 200_000 });
    const dest = path.join(dir, 'slow.bin');
    const ctl = new AbortController();
    let last = 0;
    const p = download({
      url: `${srv.url}/slow.bin`,
      dest,
      signal: ctl.signal,
      onProgress: (x) => {
        last = x.received;
        if (x.received > 50_000) ctl.abort();
      },
    });
    const err = await p.catch((e: unknown) => e);
    expect((err as DownloadError).code).toBe('cancelled');
    expect(last).toBeGreaterThan(50_000);
    expect(last).toBeLessThan(body.length);
    expect(fs.existsSync(`${dest}.part`)).toBe(true);
  });

  it('refuses before writing when the disk has too little room', async () => {
    const free = await freeBytes(dir);
    srv.set('/huge.bin', { body: 'x' });
    const dest = path.join(dir, 'huge.bin');
    const err = await download({ url: `${srv.url}/huge.bin`, dest, expectedBytes: free + 1 }).catch(
      (e: unknown) => e,
    );
    expect((err as DownloadError).code).toBe('disk_space');
    expect((err as Error).message).toMatch(/Not enough disk space in .*free/);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
  });

  it('an HTTP error is reported with its status', async () => {
    await expect(
      download({ url: `${srv.url}/missing.bin`, dest: path.join(dir, 'missing.bin') }),
    ).rejects.toThrow(/HTTP 404/);
  });
});
