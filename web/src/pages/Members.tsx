import { type FormEvent, useState } from 'react';
import { useParams } from 'react-router';
import { type ApiError, apiError, fieldErrors } from '../api/client';
import { useConsole } from '../console-context';
import { canManageMembers, type Role, useTenantRole } from '../me';
import { Field, FormMessage, formatDate, Pager, Show, useLoad } from '../ui';

const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];

/** Members (role changes, removal) and invitations (invite, revoke); read-only below admin. */
export function Members() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const [cursor, setCursor] = useState<string>();
  const [members, reloadMembers] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/members', {
        params: { path: { tenantId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
      }),
    [api, tenantId, cursor],
  );
  const [invitations, reloadInvitations] = useLoad(
    () => api.GET('/tenants/{tenantId}/invitations', { params: { path: { tenantId } } }),
    [api, tenantId],
  );
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const role = useTenantRole(tenantId);
  const manage = canManageMembers(role);

  const act = async (work: () => Promise<{ response: Response; error?: unknown }>, done: string) => {
    setError(undefined);
    setNotice(undefined);
    const answer = await work();
    if (!answer.response.ok) setError(apiError(answer.error, answer.response.status));
    else setNotice(done);
    reloadMembers();
    reloadInvitations();
    return answer.response.ok;
  };

  const invite = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const email = String(data.get('email')).trim();
    const ok = await act(
      () =>
        api.POST('/tenants/{tenantId}/members', {
          params: { path: { tenantId } },
          body: { email, role: String(data.get('role')) as Role },
        }),
      `Invited ${email}.`,
    );
    if (ok) form.reset();
  };

  const errors = fieldErrors(error);
  return (
    <>
      <h1>Members</h1>
      {notice ? <p role="status">{notice}</p> : null}
      <FormMessage error={error && !errors.email ? error.message : undefined} />
      <Show loaded={members}>
        {(page) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Custom roles</th>
                  <th scope="col">Joined</th>
                  {manage ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {page.items.map((m) => (
                  <tr key={m.userId}>
                    <td>{m.email}</td>
                    <td>
                      {manage && !m.inheritedFrom ? (
                        <select
                          aria-label={`Role of ${m.email}`}
                          value={m.role}
                          onChange={(event) =>
                            act(
                              () =>
                                api.PATCH('/tenants/{tenantId}/members/{userId}', {
                                  params: { path: { tenantId, userId: m.userId } },
                                  body: { role: event.target.value as Role },
                                }),
                              `${m.email} is now ${event.target.value}.`,
                            )
                          }
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                      {m.inheritedFrom ? ` (inherited from ${m.inheritedFrom})` : ''}
                    </td>
                    <td>{m.customRoles.map((r) => r.name).join(', ') || '—'}</td>
                    <td>{formatDate(m.joinedAt)}</td>
                    {manage ? (
                      <td>
                        {m.inheritedFrom ? null : (
                          <button
                            type="button"
                            className="danger"
                            onClick={() =>
                              act(
                                () =>
                                  api.DELETE('/tenants/{tenantId}/members/{userId}', {
                                    params: { path: { tenantId, userId: m.userId } },
                                  }),
                                `Removed ${m.email}.`,
                              )
                            }
                          >
                            Remove<span className="visually-hidden"> {m.email}</span>
                          </button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager label="Member pages" cursor={cursor} nextCursor={page.nextCursor} onPage={setCursor} />
          </>
        )}
      </Show>

      <section aria-labelledby="invitations">
        <h2 id="invitations">Invitations</h2>
        <Show loaded={invitations}>
          {(page) =>
            page.items.length === 0 ? (
              <p>No pending invitations.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    {manage ? <th scope="col">Actions</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((invitation) => (
                    <tr key={invitation.id}>
                      <td>{invitation.email}</td>
                      <td>{invitation.role}</td>
                      <td>{invitation.status}</td>
                      <td>{formatDate(invitation.expiresAt)}</td>
                      {manage ? (
                        <td>
                          <button
                            type="button"
                            className="danger"
                            onClick={() =>
                              act(
                                () =>
                                  api.DELETE('/tenants/{tenantId}/invitations/{invitationId}', {
                                    params: { path: { tenantId, invitationId: invitation.id } },
                                  }),
                                `Revoked the invitation of ${invitation.email}.`,
                              )
                            }
                          >
                            Revoke
                            <span className="visually-hidden"> the invitation of {invitation.email}</span>
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Show>
        {manage ? (
          <form onSubmit={invite} noValidate aria-labelledby="invite">
            <h3 id="invite">Invite someone</h3>
            <Field label="Email" name="email" error={errors.email}>
              {(props) => <input {...props} type="email" required />}
            </Field>
            <Field label="Role" name="role" error={errors.role}>
              {(props) => (
                <select {...props} defaultValue="member">
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit">Invite</button>
          </form>
        ) : null}
      </section>
    </>
  );
}
