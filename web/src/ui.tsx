import { type DependencyList, type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { type ApiError, apiError } from './api/client';

/** What openapi-fetch answers: the body on 2xx, the error body otherwise, and the response. */
export interface Answer<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly error: ApiError; readonly status: number }
  | { readonly state: 'ready'; readonly data: T };

/** Loads `request` when `deps` change; `reload` asks again. */
export function useLoad<T>(request: () => Promise<Answer<T>>, deps: DependencyList): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const lastRound = useRef(round);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to ask again.
  useEffect(() => {
    let current = true;
    // Other deps (a filter, a page): the old answer is not this one, so it goes. A `reload` (the
    // same question again, e.g. polling) keeps it on screen until the new one comes.
    if (lastRound.current === round) setLoaded({ state: 'loading' });
    lastRound.current = round;
    request().then(
      (answer) => {
        if (!current) return;
        if (answer.data !== undefined && answer.response.ok) setLoaded({ state: 'ready', data: answer.data });
        else
          setLoaded({
            state: 'failed',
            error: apiError(answer.error, answer.response.status),
            status: answer.response.status,
          });
      },
      (error: unknown) => {
        if (current)
          setLoaded({
            state: 'failed',
            status: 0,
            error: { code: 'network', message: error instanceof Error ? error.message : String(error) },
          });
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return [loaded, reload];
}

/** A failed load: a 404 says "Not found" (a tenant one is not a member of is one), never a blank page. */
export function Failure({ error, status }: { error: ApiError; status: number }) {
  if (status === 404)
    return (
      <section aria-labelledby="not-found">
        <h2 id="not-found">Not found</h2>
        <p>There is nothing here, or you are not a member of this tenant.</p>
      </section>
    );
  if (status === 403)
    return (
      <section aria-labelledby="forbidden">
        <h2 id="forbidden">Not allowed</h2>
        <p>Your role does not allow this page. {error.message}</p>
      </section>
    );
  return (
    <p role="alert" className="error">
      {error.message}
      {error.requestId ? ` (request ${error.requestId})` : ''}
    </p>
  );
}

export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  if (loaded.state === 'loading') return <p aria-busy="true">Loading…</p>;
  if (loaded.state === 'failed') return <Failure error={loaded.error} status={loaded.status} />;
  return <>{children(loaded.data)}</>;
}

/** A labelled input with its error message on the field (aria-invalid, aria-describedby). */
export function Field({
  label,
  name,
  error,
  children,
}: {
  label: string;
  name: string;
  error?: string | undefined;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
  }) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        name,
        'aria-invalid': Boolean(error),
        ...(error ? { 'aria-describedby': errorId } : {}),
      })}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A form-level message (the API's or Cognito's), announced to screen readers. */
export function FormMessage({ error }: { error?: string | undefined }) {
  return error ? (
    <p role="alert" className="error">
      {error}
    </p>
  ) : null;
}

export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';

/** Keyset pages: "First page" once past the first, "Next page" while the API gives a cursor. */
export function Pager({
  label,
  cursor,
  nextCursor,
  onPage,
}: {
  label: string;
  cursor: string | undefined;
  nextCursor: string | null | undefined;
  onPage: (cursor: string | undefined) => void;
}) {
  if (!cursor && !nextCursor) return null;
  return (
    <nav aria-label={label} className="pager">
      {cursor ? (
        <button type="button" className="secondary" onClick={() => onPage(undefined)}>
          First page
        </button>
      ) : null}{' '}
      {nextCursor ? (
        <button type="button" className="secondary" onClick={() => onPage(nextCursor)}>
          Next page
        </button>
      ) : null}
    </nav>
  );
}
