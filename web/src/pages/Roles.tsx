import { type FormEvent, useState } from 'react';
import { useParams } from 'react-router';
import { type ApiError, apiError, fieldErrors, type paths } from '../api/client';
import { useConsole } from '../console-context';
import { canManageMembers, useTenantRole } from '../me';
import { Field, FormMessage, Show, useLoad } from '../ui';

type RoleBody = NonNullable<
  paths['/tenants/{tenantId}/roles']['post']['requestBody']
>['content']['application/json'];
type Permissions = RoleBody['permissions'];
type Resource = keyof Permissions;
type CustomRole =
  paths['/tenants/{tenantId}/roles']['get']['responses'][200]['content']['application/json']['items'][number];

/**
 * The permission matrix: each resource with the actions the contract allows on it. Typed against
 * the generated schema, so a resource or action the API drops or renames breaks the build.
 */
const MATRIX = {
  tenant: ['read', 'write', 'delete'],
  tenants: ['createChild'],
  members: ['read', 'write', 'delete'],
  roles: ['read', 'write', 'delete'],
  databases: ['read', 'write', 'delete'],
  tables: ['read', 'write', 'delete'],
  rows: ['read', 'write', 'delete'],
  modules: ['read', 'write', 'delete'],
  audit: ['read', 'write', 'delete'],
  usage: ['read', 'write', 'delete'],
  backups: ['read', 'write'],
  compliance: ['read'],
} as const satisfies { readonly [R in Resource]-?: readonly NonNullable<Permissions[R]>[number][] };
const ACTIONS = ['read', 'write', 'delete', 'createChild'] as const;
const RESOURCES = Object.keys(MATRIX) as Resource[];

function permissionsOf(form: FormData): Permissions {
  const permissions: Record<string, string[]> = {};
  for (const resource of RESOURCES) {
    const chosen = (MATRIX[resource] as readonly string[]).filter(
      (action) => form.get(`${resource}:${action}`) === 'on',
    );
    if (chosen.length > 0) permissions[resource] = chosen;
  }
  return permissions as Permissions;
}

function Matrix({
  role,
  editable,
  caption,
}: {
  role?: CustomRole | undefined;
  editable: boolean;
  caption: string;
}) {
  return (
    <table className="matrix">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Resource</th>
          {ACTIONS.map((action) => (
            <th key={action} scope="col">
              {action}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {RESOURCES.map((resource) => (
          <tr key={resource}>
            <th scope="row">{resource}</th>
            {ACTIONS.map((action) => {
              const allowed = (MATRIX[resource] as readonly string[]).includes(action);
              const held = ((role?.permissions[resource] ?? []) as readonly string[]).includes(action);
              return (
                <td key={action}>
                  {allowed ? (
                    <input
                      type="checkbox"
                      name={`${resource}:${action}`}
                      aria-label={`${resource} ${action}`}
                      defaultChecked={held}
                      disabled={!editable}
                    />
                  ) : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Custom roles: each a permission matrix; create, edit, delete, and give one to a member. */
export function Roles() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const path = { params: { path: { tenantId } } };
  const [roles, reload] = useLoad(() => api.GET('/tenants/{tenantId}/roles', path), [api, tenantId]);
  const [members] = useLoad(() => api.GET('/tenants/{tenantId}/members', path), [api, tenantId]);
  const [editing, setEditing] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const role = useTenantRole(tenantId);
  const manage = canManageMembers(role);

  const done = (answer: { response: Response; error?: unknown }, message: string) => {
    if (!answer.response.ok) {
      setError(apiError(answer.error, answer.response.status));
      return false;
    }
    setError(undefined);
    setNotice(message);
    reload();
    return true;
  };

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get('name')).trim();
    const answer = await api.POST('/tenants/{tenantId}/roles', {
      ...path,
      body: { name, permissions: permissionsOf(data) },
    });
    if (done(answer, `Created the role ${name}.`)) form.reset();
  };

  const save = async (event: FormEvent<HTMLFormElement>, custom: CustomRole) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const answer = await api.PUT('/tenants/{tenantId}/roles/{roleId}', {
      params: { path: { tenantId, roleId: custom.id } },
      body: { name: String(data.get('name')).trim(), permissions: permissionsOf(data) },
    });
    if (done(answer, `Saved the role ${custom.name}.`)) setEditing(undefined);
  };

  const assign = async (event: FormEvent<HTMLFormElement>, custom: CustomRole) => {
    event.preventDefault();
    const userId = String(new FormData(event.currentTarget).get('userId'));
    const answer = await api.PUT('/tenants/{tenantId}/members/{userId}/roles/{roleId}', {
      params: { path: { tenantId, userId, roleId: custom.id } },
    });
    done(answer, `Gave ${custom.name} to the member.`);
  };

  const errors = fieldErrors(error);
  return (
    <>
      <h1>Roles</h1>
      <p>
        Built-in roles: owner, admin, member, viewer. A custom role adds the permissions ticked in its matrix
        to the members given it.
      </p>
      {notice ? <p role="status">{notice}</p> : null}
      <FormMessage error={error && !errors.name ? error.message : undefined} />
      <Show loaded={roles}>
        {(data) =>
          data.items.length === 0 ? (
            <p>No custom roles yet.</p>
          ) : (
            data.items.map((custom) => (
              <section key={custom.id} aria-labelledby={`role-${custom.id}`} className="role">
                <h2 id={`role-${custom.id}`}>{custom.name}</h2>
                <form onSubmit={(event) => save(event, custom)} noValidate>
                  {editing === custom.id ? (
                    <Field label="Name" name="name" error={errors.name}>
                      {(props) => <input {...props} defaultValue={custom.name} maxLength={64} required />}
                    </Field>
                  ) : null}
                  <Matrix
                    role={custom}
                    editable={editing === custom.id}
                    caption={`Permissions of ${custom.name}`}
                  />
                  {manage && editing === custom.id ? (
                    <>
                      <button type="submit">Save {custom.name}</button>{' '}
                      <button type="button" className="secondary" onClick={() => setEditing(undefined)}>
                        Cancel
                      </button>
                    </>
                  ) : null}
                  {manage && editing !== custom.id ? (
                    <>
                      <button type="button" className="secondary" onClick={() => setEditing(custom.id)}>
                        Edit {custom.name}
                      </button>{' '}
                      <button
                        type="button"
                        className="danger"
                        onClick={async () =>
                          done(
                            await api.DELETE('/tenants/{tenantId}/roles/{roleId}', {
                              params: { path: { tenantId, roleId: custom.id } },
                            }),
                            `Deleted the role ${custom.name}.`,
                          )
                        }
                      >
                        Delete {custom.name}
                      </button>
                    </>
                  ) : null}
                </form>
                {manage && members.state === 'ready' ? (
                  <form onSubmit={(event) => assign(event, custom)} className="inline">
                    <Field label={`Give ${custom.name} to`} name="userId">
                      {(props) => (
                        <select {...props}>
                          {members.data.items.map((m) => (
                            <option key={m.userId} value={m.userId}>
                              {m.email}
                            </option>
                          ))}
                        </select>
                      )}
                    </Field>
                    <button type="submit">Give role</button>
                  </form>
                ) : null}
              </section>
            ))
          )
        }
      </Show>
      {manage ? (
        <section aria-labelledby="new-role">
          <h2 id="new-role">New role</h2>
          <form onSubmit={create} noValidate>
            <Field label="Name" name="name" error={errors.name}>
              {(props) => <input {...props} maxLength={64} required />}
            </Field>
            <Matrix editable caption="Permissions of the new role" />
            <button type="submit">Create role</button>
          </form>
        </section>
      ) : null}
    </>
  );
}
