// Uploading a file with progress. fetch cannot report upload progress, so this one
// request goes through XMLHttpRequest: multipart/form-data with one part named `file`,
// as POST /projects/{project_id}/artifacts and PUT .../artifacts/{artifact_id}/content
// expect; same-origin cookies; the API's error shape turned into the same ApiError every
// other call throws.
import { API_BASE, ApiError, api, toApiError, type Schemas } from '../api/client';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface Upload<T> {
  done: Promise<T>;
  abort: () => void;
}

function once(method: string, url: string, file: File, onProgress: (p: UploadProgress) => void, signal: { abort?: () => void }): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    signal.abort = () => xhr.abort();
    xhr.open(method, url);
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

/** Sends `file` as the one part `file` of a multipart request to `url` (under API_BASE). */
export function uploadFile<T>(method: 'POST' | 'PUT', url: string, file: File, onProgress: (p: UploadProgress) => void): Upload<T> {
  const signal: { abort?: () => void } = {};
  let aborted = false;
  const done = (async () => {
    let res = await once(method, url, file, onProgress, signal);
    if (res.status === 401 && !aborted) {
      // The access token expired: one call through the client refreshes the session
      // (shared with any other refresh in flight), then the upload goes again.
      await api.GET('/me');
      onProgress({ loaded: 0, total: file.size });
      res = await once(method, url, file, onProgress, signal);
    }
    if (res.status >= 200 && res.status < 300) return res.body as T;
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

/** A new artifact of the project. */
export function uploadArtifact(projectId: string, file: File, onProgress: (p: UploadProgress) => void): Upload<Schemas['Artifact']> {
  return uploadFile('POST', `${API_BASE}/projects/${encodeURIComponent(projectId)}/artifacts`, file, onProgress);
}

/** New content for an existing artifact (same kind); its name, id and references stay. */
export function replaceArtifactContent(
  projectId: string,
  artifactId: string,
  file: File,
  onProgress: (p: UploadProgress) => void,
): Upload<Schemas['Artifact']> {
  return uploadFile('PUT', `${API_BASE}/projects/${encodeURIComponent(projectId)}/artifacts/${encodeURIComponent(artifactId)}/content`, file, onProgress);
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
