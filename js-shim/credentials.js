// A request's credential material, as the rules name it (the core's configure report, `credentials`): the
// values of the credential header fields, of the credential cookies (or of the Cookie field as a whole when no
// cookie is named), and of the credential query parameters. Auth verdicts (auth.js) and rate-limit identities
// key on a hash of it; it is never stored, logged or sent to the core.
//
// Authorization's scheme is case-insensitive and the space after it is any run of spaces (RFC 9110 §11.1,
// §11.4): "bearer  x" and "Bearer x" are one credential.
function canonical(name, value) {
  if (name !== "authorization") return value.trim();
  const m = /^[ \t]*([^ \t]+)[ \t]+(.*?)[ \t]*$/.exec(value);
  return m ? `${m[1].toLowerCase()} ${m[2]}` : value.trim().toLowerCase();
}

// "" when the request carries none. url: the request URL (for the query parameters).
export function credentialMaterial(request, url, credentials) {
  const parts = [];
  for (const name of credentials.headers) {
    if (name === "cookie") continue;
    const value = request.headers.get(name);
    if (value !== null) parts.push(`h:${name}=${canonical(name, value)}`);
  }
  const cookie = request.headers.get("cookie");
  if (cookie !== null) {
    if (Array.isArray(credentials.cookies)) {
      const named = [];
      for (const part of cookie.split(";")) {
        const eq = part.indexOf("=");
        const name = (eq < 0 ? part : part.slice(0, eq)).trim();
        if (credentials.cookies.includes(name)) named.push(`c:${name}=${eq < 0 ? "" : part.slice(eq + 1).trim()}`);
      }
      parts.push(...named.sort());
    } else {
      parts.push(`c:*=${cookie.trim()}`);
    }
  }
  const query = url.indexOf("?");
  if (credentials.params.length > 0 && query >= 0) {
    const wanted = credentials.params.map((p) => p.toLowerCase());
    for (const [name, value] of new URLSearchParams(url.slice(query + 1).split("#")[0])) {
      if (wanted.includes(name.toLowerCase())) parts.push(`q:${name.toLowerCase()}=${value}`);
    }
  }
  return parts.join("\n");
}
