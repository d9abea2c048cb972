import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

/**
 * The test page for stock Uppy (@uppy/core, @uppy/aws-s3 v5, @uppy/golden-retriever from node_modules): npm ships
 * them as ES modules with bare imports, so esbuild bundles one script for the page. The page talks to the API as
 * Companion (`endpoint`, bearer in `headers`) and records Uppy's events in `window.uppyLog` for the test to read.
 */
const PAGE_SCRIPT = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import GoldenRetriever from '@uppy/golden-retriever';

const params = new URLSearchParams(location.search);
const log = (window.uppyLog = []);
const show = (text) => (document.getElementById('log').textContent += text + '\\n');
const uppy = new Uppy({ autoProceed: false })
  .use(AwsS3, {
    endpoint: params.get('api'),
    headers: { authorization: 'Bearer ' + params.get('token') },
    shouldUseMultipart: (file) => file.size > 100 * 1024 * 1024,
  })
  // Keeps the file and its multipart state across a reload; the default 10 MiB cap would drop a large file.
  .use(GoldenRetriever, { indexedDB: { maxFileSize: 400 * 1024 * 1024, maxTotalSize: 800 * 1024 * 1024 } });
// Companion's create carries no size: Assetline reads it from the meta.
uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: String(file.size) }));
uppy.on('upload-success', (file, res) => {
  log.push({ type: 'success', name: file.name, body: res.body ?? null, uploadURL: res.uploadURL });
  show('uploaded ' + file.name + ' -> ' + (res.uploadURL ?? ''));
});
uppy.on('upload-error', (file, err) => {
  log.push({ type: 'error', name: file?.name, message: err.message });
  show('error ' + (file?.name ?? '') + ': ' + err.message);
});
uppy.on('s3-multipart:part-uploaded', (file, part) => log.push({ type: 'part', partNumber: part.PartNumber }));
uppy.on('progress', (p) => (document.getElementById('progress').textContent = 'total progress ' + p + '%'));
uppy.on('restored', () => {
  log.push({ type: 'restored', files: uppy.getFiles().map((f) => f.name) });
  show('restored ' + uppy.getFiles().map((f) => f.name).join(', '));
});
document.getElementById('files').addEventListener('change', (e) => {
  for (const file of e.target.files) uppy.addFile({ name: file.name, type: file.type, data: file });
});

/** A WAV of silence-free 16-bit stereo PCM at 192 kHz: valid audio the pipeline transcodes quickly for its size. */
function wav(bytes) {
  const rate = 192000, channels = 2, dataBytes = bytes - 44;
  const buf = new ArrayBuffer(bytes);
  const v = new DataView(buf);
  const text = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  text(0, 'RIFF'); v.setUint32(4, bytes - 8, true); text(8, 'WAVE'); text(12, 'fmt ');
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, channels, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * channels * 2, true); v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true); text(36, 'data'); v.setUint32(40, dataBytes, true);
  const samples = new Int16Array(buf, 44, dataBytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((i >> 1) * 0.0147));
  return new Blob([buf], { type: 'audio/wav' });
}
window.addWav = (name, bytes) => uppy.addFile({ name, type: 'audio/wav', data: wav(bytes) });
window.startUpload = () => uppy.upload();
// A restored file counts as started, so upload() has nothing new to do: the restored upload is run again instead
// (the multipart uploader asks for the stored parts first and sends only the rest).
window.resumeUploads = () =>
  Promise.all(Object.keys(uppy.getState().currentUploads).map((id) => uppy.restore(id)));
window.uppyReady = true;
`;

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Assetline + Uppy</title></head>
<body style="font: 14px sans-serif"><h1>Assetline browser upload</h1>
<input id="files" type="file" multiple><p id="progress">total progress 0%</p><pre id="log"></pre>
<script src="/uppy.js"></script></body></html>`;

export interface UppyPage {
  /** http://localhost:PORT: the origin to list in CORS_ALLOWED_ORIGINS. */
  origin: string;
  close(): Promise<void>;
}

/** Serves the page on `port` (chosen before the platform starts, since the platform's CORS names it). */
export async function serveUppyPage(port: number): Promise<UppyPage> {
  const bundle = await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.contents;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/uppy.js'))
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_HTML);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
