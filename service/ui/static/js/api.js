// Talking to the service: JSON over fetch, the bearer token for writes, and ids in addresses.
//
// The token lives in sessionStorage: one browser tab's session, never a cookie (so no request
// carries it unasked) and never an address (so no log or history holds it).

const TOKEN_KEY = "related-articles.api-token";
const root = document.body.dataset.root || "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  get refused() {
    return this.status === 401 || this.status === 403;
  }
}

/** Article ids may hold "/" and any other character: always percent-encode them. */
export const enc = encodeURIComponent;

export function url(path) {
  return root + path;
}

export function articleApi(id, rest = "") {
  return `/articles/${enc(id)}${rest}`;
}

export function articlePage(id) {
  return url(`/ui/articles/${enc(id)}`);
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const secret = token();
  if (secret && method !== "GET") headers.Authorization = `Bearer ${secret}`;
  let response;
  try {
    response = await fetch(url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, "network_error", `The server could not be reached (${error.message}).`);
  }
  let data;
  try {
    data = await response.json();
  } catch {
    throw new ApiError(response.status, "bad_response", `The server answered ${response.status} without JSON.`);
  }
  if (!response.ok || data.ok === false) {
    throw new ApiError(data.status || response.status, data.code || "error", data.error || response.statusText);
  }
  return data;
}

export const get = (path) => call("GET", path);
export const put = (path, body) => call("PUT", path, body);
export const post = (path, body) => call("POST", path, body);

/** A query string from an object, leaving out null and undefined values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
