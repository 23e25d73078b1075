/**
 * TCP mode against the REST API on the same server (face only, CPU): the time one image takes through each
 * protocol, median of N runs, and the cost of the NumPy mode's PNG hop at two zlib levels.
 * `node --import tsx bench/tcp.ts [runs=5]`. A 12 MP frame is made by resizing test/fixtures/faces.jpg.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { startTestServer } from '../test/helpers/server.ts';
import { exchange, npyFile, numpyFrame } from '../test/tcp/helpers.ts';
import { bgrToPng, swapRedBlue } from '../src/pipeline/image/raw.ts';

const runs = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const photo = await readFile(new URL('../test/fixtures/faces.jpg', import.meta.url));
const sizes = { '1200x700': photo, '4000x3000': await sharp(photo).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer() };

// The PNG hop alone (NumPy mode writes the array as PNG for the pipeline).
{
  const { data, info } = await sharp(sizes['4000x3000']).raw().toBuffer({ resolveWithObject: true });
  for (const level of [1, 6]) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const png = level === 1
        ? await bgrToPng({ data: swapRedBlue(data), width: info.width, height: info.height })
        : await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
      times.push(performance.now() - t);
      bytes = png.length;
    }
    console.log(`PNG of 4000x3000 at zlib ${level}: ${median(times).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB`);
  }
}

const server = await startTestServer({ tcpPort: 0 });
try {
  for (const [name, jpeg] of Object.entries(sizes)) {
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const frame = numpyFrame(npyFile([info.height, info.width, 3], swapRedBlue(data)));
    const t: Record<string, number[]> = { http: [], jpeg: [], numpy: [] };
    for (let i = 0; i < runs; i++) {
      let s = performance.now();
      const res = await fetch(`${server.url}/v1/file?save-mask=none`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
      const task = (await res.json()) as { id: string; links: { anonymised: string } };
      await (await fetch(task.links.anonymised)).arrayBuffer();
      t.http!.push(performance.now() - s);
      await fetch(`${server.url}/v1/task/${task.id}`, { method: 'DELETE' });
      s = performance.now();
      await exchange(server.tcpPort!, [jpeg]);
      t.jpeg!.push(performance.now() - s);
      s = performance.now();
      await exchange(server.tcpPort!, [frame]);
      t.numpy!.push(performance.now() - s);
    }
    console.log(`${name}: REST sync + download ${median(t.http!).toFixed(0)} ms, TCP JPEG ${median(t.jpeg!).toFixed(0)} ms, TCP NumPy ${median(t.numpy!).toFixed(0)} ms (median of ${runs})`);
  }
} finally {
  await server.stop();
}
