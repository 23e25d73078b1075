// `anonymiser models fetch`: downloads model packs, verifies size and sha256, installs them atomically.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import got from 'got';
import { ModelPackError } from '../errors.ts';
import { modelPacks, packNamed, upstreamUrl, type ModelPack, type PackFile } from './packs.ts';

export interface FetchPacksOptions {
  /** Pack names; empty or absent: the packs marked default in the manifest. */
  names?: readonly string[];
  /** Folder the files are installed into. */
  packsDir: string;
  /** An operator's copy of the files by file name: a base URL (http/https) or a local folder. */
  mirror?: string;
  /** Further attempts per file after a failed download (default 2). */
  retries?: number;
  /** Per-attempt time limit in ms (default 120 s). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface FetchedFile {
  file: string;
  /** installed: downloaded and verified now; present: already installed with the right hash. */
  status: 'installed' | 'present';
  from?: string;
}

export interface FetchedPack {
  name: string;
  files: FetchedFile[];
}

/** The packs asked for by name (unknown names are an error listing the known ones). */
export function resolvePacks(names: readonly string[] = []): ModelPack[] {
  if (names.length === 0) return modelPacks().filter((p) => p.default);
  return names.map((n) => {
    const pack = packNamed(n);
    if (!pack) throw new ModelPackError(`unknown model pack "${n}" (known: ${modelPacks().map((p) => p.name).join(', ')})`);
    return pack;
  });
}

/** Where a file comes from: the mirror (by file name) or its pinned upstream URL. */
export function sourceOf(f: PackFile, mirror?: string): { kind: 'url' | 'dir'; location: string } {
  if (!mirror) return { kind: 'url', location: upstreamUrl(f) };
  if (/^https?:\/\//i.test(mirror)) return { kind: 'url', location: new URL(encodeURIComponent(f.file), mirror.endsWith('/') ? mirror : `${mirror}/`).href };
  return { kind: 'dir', location: path.resolve(mirror, f.file) };
}

/**
 * Fetches each pack: every file is downloaded to a temporary file beside its destination and checked
 * (size, sha256); only when all files of a pack are good are they renamed into place. A failure leaves
 * nothing of that pack installed (files already there with the right hash are kept) and throws.
 */
export async function fetchPacks(options: FetchPacksOptions): Promise<FetchedPack[]> {
  const packs = resolvePacks(options.names);
  await mkdir(options.packsDir, { recursive: true });
  const done: FetchedPack[] = [];
  for (const pack of packs) {
    const staged: { temp: string; dest: string }[] = [];
    const files: FetchedFile[] = [];
    try {
      for (const f of pack.files) {
        const dest = path.join(options.packsDir, f.file);
        if ((await hashOf(dest)) === f.sha256) {
          files.push({ file: f.file, status: 'present' });
          continue;
        }
        const source = sourceOf(f, options.mirror);
        const temp = await fetchVerified(f, source, options);
        staged.push({ temp, dest });
        files.push({ file: f.file, status: 'installed', from: source.location });
      }
      for (const s of staged) await rename(s.temp, s.dest);
    } catch (err) {
      await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
      throw err;
    }
    for (const f of files) options.log?.(`${pack.name}: ${f.file} ${f.status === 'present' ? 'already installed' : `installed from ${f.from}`}`);
    done.push({ name: pack.name, files });
  }
  return done;
}

async function hashOf(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Downloads one file into a fresh temporary file and verifies it, retrying cleanly; returns the temp path. */
async function fetchVerified(f: PackFile, source: { kind: 'url' | 'dir'; location: string }, options: FetchPacksOptions): Promise<string> {
  const attempts = 1 + (source.kind === 'url' ? (options.retries ?? 2) : 0);
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const temp = path.join(options.packsDir, `.${f.file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    try {
      const { bytes, sha256 } = await download(f, source, temp, options.timeoutMs ?? 120_000);
      if (bytes !== f.bytes) throw new Mismatch(`${bytes} bytes received, ${f.bytes} expected (truncated or wrong file)`);
      if (sha256 !== f.sha256) throw new Mismatch(`sha256 ${sha256} does not match the manifest's ${f.sha256}`);
      return temp;
    } catch (err) {
      await rm(temp, { force: true });
      last = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      if (attempt < attempts) options.log?.(`${f.file}: attempt ${attempt} failed (${last}); retrying`);
    }
  }
  throw new ModelPackError(`${f.file} from ${source.location}: ${last}; nothing of this pack was installed`);
}

class Mismatch extends Error {}

async function download(f: PackFile, source: { kind: 'url' | 'dir'; location: string }, temp: string, timeoutMs: number): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      // Stop early rather than filling the disk with a wrong file.
      if (bytes > f.bytes) return callback(new Mismatch(`more than the ${f.bytes} bytes expected`));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  const input =
    source.kind === 'dir'
      ? createReadStream(source.location)
      : got.stream(source.location, { retry: { limit: 0 }, timeout: { request: timeoutMs }, headers: { 'user-agent': 'anonymiser-model-fetch' } });
  await pipeline(input, counter, createWriteStream(temp, { flags: 'wx' }));
  return { bytes, sha256: hash.digest('hex') };
}
