import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiJson, onUnauthorized, storeKey, storedKey, type WhoAmI } from './api';
import { navigate, onLinkClick, usePath } from './router';
import { SignIn } from './pages/sign_in';
import { Overview } from './pages/overview';
import { Customers } from './pages/customers';
import { Segments } from './pages/segments';
import { Actions } from './pages/actions';
import { Simulations } from './pages/simulations';
import { Loading, ErrorBox } from './ui';
import './styles.css';

const pages = [
  { path: '/overview', title: 'Overview' },
  { path: '/customers', title: 'Customers' },
  { path: '/segments', title: 'Segments' },
  { path: '/actions', title: 'Actions' },
  { path: '/simulations', title: 'Simulations' },
];

function App() {
  const path = usePath();
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [checking, setChecking] = useState<boolean>(storedKey() !== null);
  const [startError, setStartError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  // A key already in this tab's session: ask who it is.
  useEffect(() => {
    if (!storedKey()) return;
    apiJson<WhoAmI>('/v1/auth/whoami').then(
      (w) => {
        setWho(w);
        setChecking(false);
      },
      (e: ApiError) => {
        setChecking(false);
        if (e.status !== 401) setStartError(e);
      },
    );
  }, []);

  useEffect(
    () =>
      onUnauthorized((message) => {
        setWho(null);
        setNotice(message);
        navigate('/sign-in' + (location.pathname.startsWith('/sign-in') ? '' : '?next=' + encodeURIComponent(location.pathname)), true);
      }),
    [],
  );

  useEffect(() => {
    const page = pages.find((p) => path.startsWith(p.path));
    document.title = (page ? page.title + ' · ' : '') + 'Kairos console';
  }, [path]);

  if (checking) return <main class="center"><Loading what="your session" /></main>;
  if (startError) return <main class="center"><ErrorBox error={startError} retry={() => location.reload()} /></main>;

  if (!who) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(key, w) => {
          storeKey(key);
          setWho(w);
          setNotice(null);
          const next = new URLSearchParams(location.search).get('next');
          navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/overview', true);
        }}
      />
    );
  }
  if (path === '/' || path.startsWith('/sign-in')) {
    navigate('/overview', true);
    return null;
  }

  const signOut = () => {
    storeKey(null);
    setWho(null);
    setNotice('You signed out.');
    navigate('/sign-in', true);
  };

  let body;
  if (path.startsWith('/overview')) body = <Overview />;
  else if (path.startsWith('/customers')) body = <Customers path={path} who={who} />;
  else if (path.startsWith('/segments')) body = <Segments />;
  else if (path.startsWith('/actions')) body = <Actions who={who} />;
  else if (path.startsWith('/simulations')) body = <Simulations />;
  else body = <div class="state empty"><strong>No page here.</strong> <a href="/overview">Go to the overview</a></div>;

  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/overview" aria-label="Kairos console home">
          <span class="logo" aria-hidden="true">K</span> Kairos
        </a>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a href={p.path} aria-current={path.startsWith(p.path) ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span title={'key ' + who.id}>
            {who.name || who.id || 'signed in'} · <span class="role">{who.role}</span>
          </span>
          <button type="button" class="ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
