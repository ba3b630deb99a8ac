/** How the simulator reaches the control plane: its public HTTP APIs, nothing else. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  token?: string;
  body?: unknown;
  /** Raw bytes (image uploads), sent as application/octet-stream. */
  data?: Buffer;
  remoteAddress?: string;
  headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: unknown;
}

export interface ApiClient {
  request(request: ApiRequest): Promise<ApiResponse>;
}
