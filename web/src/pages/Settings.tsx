import { type FormEvent, useState } from 'react';
import { useParams } from 'react-router';
import { type ApiError, apiError, fieldErrors, type paths } from '../api/client';
import { useConsole } from '../console-context';
import { canManageMembers, useTenantRole } from '../me';
import { Field, FormMessage, Show, useLoad } from '../ui';

type Patch = NonNullable<paths['/tenants/{tenantId}']['patch']['requestBody']>['content']['application/json'];
type Tenant = paths['/tenants/{tenantId}']['get']['responses'][200]['content']['application/json'];

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

/** The tenant's name and settings (PATCH /tenants/{id}); the API's message is on each field. */
export function Settings() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const [tenant, reload] = useLoad(
    () => api.GET('/tenants/{tenantId}', { params: { path: { tenantId } } }),
    [api, tenantId],
  );
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const role = useTenantRole(tenantId);
  const editable = canManageMembers(role);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const address = {
      line1: text(form, 'address.line1'),
      line2: text(form, 'address.line2'),
      city: text(form, 'address.city'),
      postalCode: text(form, 'address.postalCode'),
      region: text(form, 'address.region'),
      country: text(form, 'address.country'),
    };
    const anyAddress = Object.values(address).some((v) => v !== '');
    const body: Patch = {
      name: text(form, 'name'),
      ...(text(form, 'companyEmail') ? { companyEmail: text(form, 'companyEmail') } : {}),
      ...(text(form, 'language') ? { language: text(form, 'language') } : {}),
      ...(text(form, 'timezone') ? { timezone: text(form, 'timezone') } : {}),
      ...(text(form, 'defaultCurrency') ? { defaultCurrency: text(form, 'defaultCurrency') } : {}),
      ...(anyAddress
        ? {
            address: {
              line1: address.line1,
              city: address.city,
              postalCode: address.postalCode,
              country: address.country,
              ...(address.line2 ? { line2: address.line2 } : {}),
              ...(address.region ? { region: address.region } : {}),
            },
          }
        : {}),
    };
    setError(undefined);
    setNotice(undefined);
    const answer = await api.PATCH('/tenants/{tenantId}', { params: { path: { tenantId } }, body });
    if (!answer.data) {
      setError(apiError(answer.error, answer.response.status));
      return;
    }
    setNotice('Settings saved.');
    reload();
  };

  const errors = fieldErrors(error);
  const unplaced = error && Object.keys(errors).length === 0 ? error.message : undefined;
  return (
    <Show loaded={tenant}>
      {(t: Tenant) => {
        const s = t.settings;
        const field = (label: string, name: string, value: unknown, extra: Record<string, unknown> = {}) => (
          <Field label={label} name={name} error={errors[name]}>
            {(props) => (
              <input
                {...props}
                {...extra}
                defaultValue={typeof value === 'string' ? value : ''}
                readOnly={!editable}
              />
            )}
          </Field>
        );
        return (
          <>
            <h1>Settings</h1>
            {notice ? <p role="status">{notice}</p> : null}
            {!editable ? <p>Only owners and admins change settings; you can read them.</p> : null}
            <form onSubmit={save} noValidate>
              {field('Name', 'name', t.name, { maxLength: 120 })}
              {field('Company email', 'companyEmail', s.companyEmail, { type: 'email' })}
              {field('Language (e.g. en-GB)', 'language', s.language)}
              {field('Time zone (e.g. Europe/Paris)', 'timezone', s.timezone)}
              {field('Default currency (ISO 4217, e.g. EUR)', 'defaultCurrency', s.defaultCurrency, {
                maxLength: 3,
              })}
              <fieldset>
                <legend>Address</legend>
                {field('Line 1', 'address.line1', s.address?.line1)}
                {field('Line 2', 'address.line2', s.address?.line2)}
                {field('City', 'address.city', s.address?.city)}
                {field('Postal code', 'address.postalCode', s.address?.postalCode)}
                {field('Region', 'address.region', s.address?.region)}
                {field('Country (ISO 3166 alpha-2, e.g. FR)', 'address.country', s.address?.country, {
                  maxLength: 2,
                })}
              </fieldset>
              <FormMessage error={unplaced} />
              {editable ? <button type="submit">Save settings</button> : null}
            </form>
          </>
        );
      }}
    </Show>
  );
}
