import { describe, expect, it } from 'vitest';
import { API_CORS, corsHeaders, preflightHeaders } from '#shared/http/cors';

/** The API's CORS, as API Gateway applies a `corsPreflight` (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html). */
describe('API CORS headers', () => {
  const console = 'http://127.0.0.1:3001';

  it("answers an allowed origin's preflight with the methods, headers and max age", () => {
    expect(preflightHeaders([console], console)).toEqual({
      'access-control-allow-origin': console,
      'access-control-expose-headers': API_CORS.exposeHeaders.join(','),
      vary: 'origin',
      'access-control-allow-methods': '*',
      'access-control-allow-headers': 'authorization,content-type,idempotency-key,prefer',
      'access-control-max-age': '600',
    });
  });

  it('gives another origin, or a request without Origin, no CORS header at all (the browser refuses)', () => {
    expect(preflightHeaders([console], 'https://evil.example')).toEqual({});
    expect(corsHeaders([console], 'http://localhost:9999')).toEqual({});
    expect(corsHeaders([console], undefined)).toEqual({});
    expect(corsHeaders([], console)).toEqual({});
  });

  it("'*' allows any origin and says '*', without Vary", () => {
    expect(corsHeaders(['*'], 'https://app.example')).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': API_CORS.exposeHeaders.join(','),
    });
  });
});
