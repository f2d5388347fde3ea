import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { authMessage } from '../auth';
import { useConsole } from '../console-context';
import { Field, FormMessage } from '../ui';

/**
 * Sign-up, then the emailed code (ConfirmSignUp), then sign-in. A tenant name given here becomes
 * the user's first tenant once the email is confirmed (the post-confirmation trigger registers it).
 */
export function SignUp() {
  const { auth, setSession } = useConsole();
  const navigate = useNavigate();
  const [pending, setPending] = useState<{ email: string; password: string }>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(authMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const signUp = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email')).trim();
    const password = String(form.get('password'));
    const tenantName = String(form.get('tenantName') ?? '').trim();
    return run(async () => {
      await auth.signUp(email, password, tenantName || undefined);
      setPending({ email, password });
    });
  };

  const confirm = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get('code')).trim();
    if (!pending) return;
    return run(async () => {
      await auth.confirm(pending.email, code);
      setSession(await auth.signIn(pending.email, pending.password));
      navigate('/tenants');
    });
  };

  if (pending)
    return (
      <section aria-labelledby="confirm" className="narrow">
        <h1 id="confirm">Confirm your email</h1>
        <p>
          We sent a code to <strong>{pending.email}</strong>. (On the local platform no email is sent: the
          code is in the <code>npm start</code> output and in <code>mail.jsonl</code> in its state folder.)
        </p>
        <form onSubmit={confirm} noValidate>
          <Field label="Confirmation code" name="code">
            {(props) => <input {...props} inputMode="numeric" autoComplete="one-time-code" required />}
          </Field>
          <FormMessage error={error} />
          {notice ? <p role="status">{notice}</p> : null}
          <button type="submit" disabled={busy}>
            Confirm
          </button>{' '}
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              run(async () => {
                await auth.resendCode(pending.email);
                setNotice('A new code is on its way.');
              })
            }
          >
            Send a new code
          </button>
        </form>
      </section>
    );

  return (
    <section aria-labelledby="sign-up" className="narrow">
      <h1 id="sign-up">Sign up</h1>
      <form onSubmit={signUp} noValidate>
        <Field label="Email" name="email">
          {(props) => <input {...props} type="email" autoComplete="email" required />}
        </Field>
        <Field
          label="Password (12 characters or more, upper and lower case, a digit and a symbol)"
          name="password"
        >
          {(props) => (
            <input {...props} type="password" autoComplete="new-password" minLength={12} required />
          )}
        </Field>
        <Field label="Your organisation's name (creates your first tenant; optional)" name="tenantName">
          {(props) => <input {...props} maxLength={100} autoComplete="organization" />}
        </Field>
        <FormMessage error={error} />
        <button type="submit" disabled={busy}>
          Sign up
        </button>
      </form>
      <p>
        Have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
