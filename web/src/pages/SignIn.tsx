import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { authMessage } from '../auth';
import { useConsole } from '../console-context';
import { Field, FormMessage } from '../ui';

export function SignIn() {
  const { auth, setSession } = useConsole();
  const navigate = useNavigate();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      setSession(await auth.signIn(String(form.get('email')), String(form.get('password'))));
      navigate('/tenants');
    } catch (failure) {
      setError(authMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="sign-in" className="narrow">
      <h1 id="sign-in">Sign in</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email">
          {(props) => <input {...props} type="email" autoComplete="username" required />}
        </Field>
        <Field label="Password" name="password">
          {(props) => <input {...props} type="password" autoComplete="current-password" required />}
        </Field>
        <FormMessage error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        No account? <Link to="/sign-up">Sign up</Link>
      </p>
    </section>
  );
}
