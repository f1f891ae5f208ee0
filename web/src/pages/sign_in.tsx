import { useState } from 'preact/hooks';
import { ApiError, apiJson, type WhoAmI } from '../api';

// One password-type input for the API key; the key goes to sessionStorage once the server
// accepts it (never a cookie or the URL).
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string, who: WhoAmI) => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Enter your API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const who = await apiJson<WhoAmI>('/v1/auth/whoami', { key: k });
      onSignedIn(k, who);
    } catch (err) {
      const e2 = err as ApiError;
      setError(e2.status === 401 ? 'This API key is not valid (or was revoked).' : e2.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="brand big">
          <span class="logo" aria-hidden="true">K</span> Kairos
        </div>
        <h1 id="signin-title">Sign in to the console</h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="kai_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'signin-error' : 'signin-help'}
          autoFocus
        />
        {error ? (
          <p id="signin-error" class="field-error" role="alert">
            {error}
          </p>
        ) : (
          <p id="signin-help" class="help">
            Ask an administrator for a key: <code>kairos keys create --role viewer</code>. It is kept in this tab only.
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
