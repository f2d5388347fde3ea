/**
 * The console's security headers, one definition for CloudFront's response headers policy (the
 * CDK app) and the local console server, so a page that breaks the policy breaks locally too.
 *
 * The console loads only its own files; it talks to the API and to the Cognito user pools API,
 * so those two origins are the only ones `connect-src` names. No inline script or style (the
 * build emits none), no frames, no plugins, no forms posted elsewhere.
 * CSP directives: https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy
 */
export interface ConsoleOrigins {
  /** The HTTP API's URL (its origin is taken). */
  readonly apiUrl: string;
  /** The Cognito user pools API's URL (its origin is taken). */
  readonly cognitoEndpoint: string;
}

/**
 * `https://host[:port]` of a URL; a source expression with a wildcard (`https://*.execute-api…`)
 * or a deploy-time token (`${Token[…]}`) is kept as it is.
 */
function originOf(url: string): string {
  if (/[*$]/.test(url)) return url;
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function consoleContentSecurityPolicy(origins: ConsoleOrigins): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${originOf(origins.apiUrl)} ${originOf(origins.cognitoEndpoint)}`,
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The headers every console answer carries besides the CSP (HSTS only over HTTPS: CloudFront's). */
export const CONSOLE_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
} as const;
