// Uploading a file with progress. fetch cannot report upload progress, so this one
// request goes through XMLHttpRequest: multipart/form-data with one part named `file`,
// as POST /projects/{project_id}/artifacts expects; same-origin cookies; the API's error
// shape turned into the same ApiError every other call throws.
import { API_BASE, ApiError, api, toApiError, type Schemas } from '../api/client';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface Upload<T> {
  done: Promise<T>;
  abort: () => void;
}

function once(url: string, file: File, onProgress: (p: UploadProgress) => void, signal: { abort?: () => void }): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    signal.abort = () => xhr.abort();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    });
    xhr.addEventListener('load', () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, { code: 'network', message: 'The upload was cut off: the server could not be reached. Check your connection and try again.' })),
    );
    xhr.addEventListener('abort', () => reject(new ApiError(0, { code: 'aborted', message: 'Upload cancelled.' })));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export function uploadArtifact(projectId: string, file: File, onProgress: (p: UploadProgress) => void): Upload<Schemas['Artifact']> {
  const url = `${API_BASE}/projects/${encodeURIComponent(projectId)}/artifacts`;
  const signal: { abort?: () => void } = {};
  let aborted = false;
  const done = (async () => {
    let res = await once(url, file, onProgress, signal);
    if (res.status === 401 && !aborted) {
      // The access token expired: one call through the client refreshes the session
      // (shared with any other refresh in flight), then the upload goes again.
      await api.GET('/me');
      onProgress({ loaded: 0, total: file.size });
      res = await once(url, file, onProgress, signal);
    }
    if (res.status >= 200 && res.status < 300) return res.body as Schemas['Artifact'];
    throw toApiError(res.status, res.body);
  })();
  return {
    done,
    abort: () => {
      aborted = true;
      signal.abort?.();
    },
  };
}

/** Hex SHA-256 of a file, computed in the browser to compare with what the server stored. */
export async function sha256Hex(file: Blob): Promise<string | undefined> {
  try {
    if (!globalThis.crypto?.subtle || typeof file.arrayBuffer !== 'function') return undefined;
    const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return undefined;
  }
}
