import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * URL path under the Jupyter server's base URL where the server extension proxies the bridge.
 */
export const API_NAMESPACE = 'executorlab';

/**
 * Call the executorlab server extension.
 *
 * @param path - below `<baseUrl>/executorlab/`, e.g. `api/status`
 * @param init - fetch options
 * @param settings - server settings; the page's by default
 * @returns the decoded JSON body
 * @throws ServerConnection.NetworkError when the server cannot be reached,
 *   ServerConnection.ResponseError on a non-2xx status
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const body = await response.text();
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response, errorMessage(body));
  }
  if (body.length === 0) {
    return undefined as T;
  }
  try {
    return JSON.parse(body) as T;
  } catch (reason) {
    throw new ServerConnection.ResponseError(
      response,
      `executorlab: ${path} did not return JSON`
    );
  }
}

function errorMessage(body: string): string | undefined {
  try {
    const data = JSON.parse(body);
    // The bridge and the server extension say `error`; Jupyter's own handlers say `message`.
    if (typeof data?.message === 'string') {
      return data.message;
    }
    return typeof data?.error === 'string' ? data.error : undefined;
  } catch {
    return body || undefined;
  }
}
