import { ErrorCodes, type Result } from '@contract';
import { TOKEN_STORAGE_KEY } from './token';
import type { TraceUploader } from '../stores/replay-store';

/**
 * Uploads a trace to `POST /api/replay/upload` (a raw body the server streams to a file). The
 * browser reads the File from disk as it sends, so the page never holds the trace whole.
 * In the desktop app (file://) there is no HTTP server to send to.
 */
export function httpTraceUploader(location: Pick<Location, 'origin' | 'protocol'> = window.location): TraceUploader {
  return (file, onProgress) =>
    new Promise<Result<{ path: string; bytes: number }>>((resolve) => {
      const failWith = (message: string) => resolve({ ok: false, error: { code: ErrorCodes.SWY_ERR_INTERNAL, message } });
      if (location.protocol !== 'http:' && location.protocol !== 'https:') {
        failWith('Uploading needs the browser console (switchyard console); in the desktop app, copy the trace into the record folder and pick it from the list.');
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${location.origin}/api/replay/upload?name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      let token: string | null = null;
      try {
        token = window.sessionStorage.getItem(TOKEN_STORAGE_KEY);
      } catch {
        token = null;
      }
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => failWith(`The upload of ${file.name} did not reach the server; is it running?`);
      xhr.onload = () => {
        try {
          const body = JSON.parse(xhr.responseText) as Result<{ path: string; bytes: number }>;
          if (body && typeof body === 'object' && 'ok' in body) resolve(body);
          else failWith(`The server answered the upload with HTTP ${xhr.status} and no result.`);
        } catch {
          failWith(`The server answered the upload with HTTP ${xhr.status} and a body that is not JSON.`);
        }
      };
      xhr.send(file);
    });
}
