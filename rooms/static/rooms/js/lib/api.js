// The REST API from the browser: session auth, Django's CSRF token, one error shape.

import { gettext } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

let pageCsrfToken = "";

/** The CSRF token the page was rendered with (a site may name its CSRF cookie otherwise). */
export function setCsrfToken(token) {
  pageCsrfToken = token || "";
}

export function csrfToken() {
  if (pageCsrfToken) return pageCsrfToken;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network", gettext("Can't reach Rooms. Check your connection and try again."));
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || gettext("Something went wrong. Try again."),
      error.fields || {},
    );
  }
  return data;
}

/** The first message for a field of a 400, or "". */
export function fieldError(error, name) {
  const value = error.fields && error.fields[name];
  if (Array.isArray(value)) return String(value[0] ?? "");
  return value ? String(value) : "";
}
