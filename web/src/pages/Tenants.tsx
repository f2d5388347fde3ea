import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { type ApiError, apiError, fieldErrors } from '../api/client';
import { useConsole } from '../console-context';
import { useMe } from '../me';
import { Field, FormMessage, formatDate, Show, useLoad } from '../ui';

/** The caller's tenants (GET /me), a new tenant (POST /tenants), and invitations to accept. */
export function Tenants() {
  const { api } = useConsole();
  const navigate = useNavigate();
  const [me, reloadMe] = useMe();
  const [invitations, reloadInvitations] = useLoad(() => api.GET('/me/invitations'), [api]);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get('name')).trim();
    setBusy(true);
    setError(undefined);
    const answer = await api.POST('/tenants', { body: { name } });
    setBusy(false);
    if (!answer.data) {
      setError(apiError(answer.error, answer.response.status));
      return;
    }
    reloadMe();
    navigate(`/t/${answer.data.id}`);
  };

  const respond = async (invitationId: string, verb: 'accept' | 'decline') => {
    const answer =
      verb === 'accept'
        ? await api.POST('/me/invitations/{invitationId}/accept', { params: { path: { invitationId } } })
        : await api.POST('/me/invitations/{invitationId}/decline', { params: { path: { invitationId } } });
    if (!answer.response.ok) setError(apiError(answer.error, answer.response.status));
    reloadInvitations();
    reloadMe();
  };

  const errors = fieldErrors(error);
  return (
    <>
      <h1>Your tenants</h1>
      <Show loaded={me}>
        {(data) =>
          data.memberships.length === 0 ? (
            <p>You are not a member of any tenant yet: create one below, or accept an invitation.</p>
          ) : (
            <table>
              <caption className="visually-hidden">Tenants you are a member of</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col">Your role</th>
                </tr>
              </thead>
              <tbody>
                {data.memberships.map((m) => (
                  <tr key={m.tenantId}>
                    <td>
                      <Link to={`/t/${m.tenantId}`}>{m.tenantName}</Link>
                      {m.tenantId === data.activeTenantId ? ' (active)' : ''}
                    </td>
                    <td>
                      <span className={`status status-${m.tenantStatus}`}>{m.tenantStatus}</span>
                    </td>
                    <td>{m.role}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>

      <section aria-labelledby="my-invitations">
        <h2 id="my-invitations">Invitations to you</h2>
        <Show loaded={invitations}>
          {(data) =>
            data.items.length === 0 ? (
              <p>No pending invitations.</p>
            ) : (
              <ul className="plain">
                {data.items.map((invitation) => (
                  <li key={invitation.id}>
                    <strong>{invitation.tenantName}</strong> invites you as {invitation.role} (until{' '}
                    {formatDate(invitation.expiresAt)}){' '}
                    <button type="button" onClick={() => respond(invitation.id, 'accept')}>
                      Accept
                    </button>{' '}
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => respond(invitation.id, 'decline')}
                    >
                      Decline
                    </button>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
      </section>

      <section aria-labelledby="new-tenant">
        <h2 id="new-tenant">New tenant</h2>
        <form onSubmit={create} noValidate>
          <Field label="Name" name="name" error={errors.name}>
            {(props) => <input {...props} maxLength={120} required />}
          </Field>
          <FormMessage error={error && !errors.name ? error.message : undefined} />
          <button type="submit" disabled={busy}>
            Create tenant
          </button>
        </form>
      </section>
    </>
  );
}
