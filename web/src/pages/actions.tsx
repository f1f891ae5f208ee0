import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, apiJson, apiRaw, roleAllows, type WhoAmI } from '../api';
import { YamlEditor, type Problem } from '../editor';
import { big, label, money, num, pct } from '../format';
import { useLoad } from '../hooks';
import { Empty, ErrorBox, Loading, Section } from '../ui';
import type { UpliftRow } from './overview';

interface CatalogAction {
  action_id: string;
  name: string;
  type: string;
  issue: string;
  group: string;
  value: number | string;
  cost: number;
  propensity: number;
  lever: number;
  channels: string[];
}

interface ModelHealth {
  id: string;
  action_id: string;
  channel: string;
  responses: number;
  positives: number;
  auc: number | null;
  flags?: string[];
}

const files = ['catalog.yaml', 'policies.yaml', 'triggers.yaml'] as const;
type ConfigFile = (typeof files)[number];

export function Actions({ who }: { who: WhoAmI }) {
  const catalog = useLoad<{ catalog_version: string; channels: string[]; actions: CatalogAction[] }>((s) => apiJson('/v1/actions', { signal: s }), []);
  const models = useLoad<{ models: ModelHealth[] }>((s) => apiJson<{ models: ModelHealth[] }>('/v1/models', { signal: s }).catch(() => ({ models: [] })), []);
  const uplift = useLoad<{ actions: UpliftRow[] } | null>((s) => apiJson<{ actions: UpliftRow[] }>('/v1/reports/uplift', { signal: s }).catch(() => null), []);
  const mayEdit = roleAllows(who.role, 'operator');
  const [edit, setEdit] = useState<{ file: ConfigFile; find?: string; seq: number } | null>(null);

  const tree = useMemo(() => {
    const t = new Map<string, Map<string, CatalogAction[]>>();
    for (const a of catalog.data?.actions ?? []) {
      if (!t.has(a.issue)) t.set(a.issue, new Map());
      const g = t.get(a.issue)!;
      if (!g.has(a.group)) g.set(a.group, []);
      g.get(a.group)!.push(a);
    }
    return t;
  }, [catalog.data]);

  const stats = useMemo(() => {
    const m = new Map<string, UpliftRow>();
    for (const r of uplift.data?.actions ?? []) if (r.action_id) m.set(r.action_id, r);
    return m;
  }, [uplift.data]);

  const health = useMemo(() => {
    const m = new Map<string, ModelHealth[]>();
    for (const h of models.data?.models ?? []) m.set(h.action_id, [...(m.get(h.action_id) ?? []), h]);
    return m;
  }, [models.data]);

  // #ACTION_ID in the address (from the overview) scrolls to that action.
  useEffect(() => {
    if (!catalog.data || !location.hash) return;
    const el = document.getElementById('action-' + decodeURIComponent(location.hash.slice(1)));
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  }, [catalog.data]);

  return (
    <div class="page">
      <div class="page-head">
        <h1>Actions</h1>
        {catalog.data && <span class="muted small">catalog version {catalog.data.catalog_version} · {catalog.data.actions.length} actions</span>}
      </div>
      {mayEdit && (
        <div class="toolbar" role="group" aria-label="Edit the configuration">
          {files.map((f) => (
            <button key={f} type="button" class={edit?.file === f ? 'on' : ''} onClick={() => setEdit({ file: f, seq: Date.now() })}>
              Edit {f}
            </button>
          ))}
        </div>
      )}
      {edit && mayEdit && <ConfigEditor key={edit.file} file={edit.file} find={edit.find} seq={edit.seq} onClose={() => setEdit(null)} onSaved={() => { catalog.reload(); models.reload(); }} />}
      {catalog.error && <ErrorBox error={catalog.error} retry={catalog.reload} />}
      {catalog.loading && !catalog.data && <Loading what="the catalog" />}
      {catalog.data && catalog.data.actions.length === 0 && <Empty title="The catalog has no actions yet.">{mayEdit ? 'Add some in catalog.yaml.' : ''}</Empty>}
      {[...tree.entries()].map(([issue, groups]) => (
        <Section key={issue} title={label(issue)} id={'issue-' + issue}>
          {[...groups.entries()].map(([group, actions]) => (
            <div class="group" key={group}>
              <h3>{label(group)}</h3>
              <div class="table-scroll">
                <table class="plain actions">
                  <thead>
                    <tr>
                      <th scope="col">Action</th>
                      <th scope="col">Channels</th>
                      <th scope="col" class="num">Impressions</th>
                      <th scope="col" class="num">Acceptance</th>
                      <th scope="col" class="num">Conversion</th>
                      <th scope="col" class="num">Value delivered</th>
                      <th scope="col">Model health</th>
                      {mayEdit && <th scope="col"><span class="sr-only">Edit</span></th>}
                    </tr>
                  </thead>
                  <tbody>
                    {actions.map((a) => {
                      const s = stats.get(a.action_id);
                      const hs = health.get(a.action_id) ?? [];
                      return (
                        <tr key={a.action_id} id={'action-' + a.action_id} tabIndex={-1}>
                          <th scope="row">
                            {a.name || a.action_id}
                            <div class="muted small">
                              {a.action_id} · {a.type} · value {typeof a.value === 'number' ? money(a.value) : <code>{a.value}</code>} · cost {money(a.cost)}
                            </div>
                          </th>
                          <td class="small">{a.channels.join(', ')}</td>
                          <td class="num">{s ? big(s.target.n) : '—'}</td>
                          <td class="num">{pct(s?.target.acceptance)}</td>
                          <td class="num">{pct(s?.target.conversion)}</td>
                          <td class="num">{money(s && s.target.revenue !== null ? s.target.revenue * s.target.n : undefined)}</td>
                          <td class="small">
                            <ModelCell models={hs} />
                          </td>
                          {mayEdit && (
                            <td>
                              <button type="button" class="small-btn" aria-label={`Edit ${a.action_id} in catalog.yaml`} onClick={() => setEdit({ file: 'catalog.yaml', find: a.action_id, seq: Date.now() })}>
                                Edit
                              </button>
                            </td>
                          )}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </div>
          ))}
        </Section>
      ))}
    </div>
  );
}

function ConfigEditor({ file, find, seq, onClose, onSaved }: { file: ConfigFile; find?: string; seq: number; onClose: () => void; onSaved: () => void }) {
  const loaded = useLoad<{ file: string; content: string }>((s) => apiJson(`/v1/admin/config/${file}`, { signal: s }), [file]);
  const [text, setText] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error' | 'busy'; text: string } | null>(null);
  const [jump, setJump] = useState<{ line: number; seq: number } | undefined>();

  useEffect(() => {
    if (loaded.data) {
      setText(loaded.data.content);
      setProblems([]);
      setStatus(null);
    }
  }, [loaded.data]);

  // "Edit" on an action: go to the line that declares it.
  useEffect(() => {
    if (text === null || !find) return;
    const lines = text.split('\n');
    const re = new RegExp(`^\\s*(-\\s*)?(id:\\s*)?["']?${find.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:?\\s*($|\\{|#)`);
    let i = lines.findIndex((l) => re.test(l));
    if (i < 0) i = lines.findIndex((l) => l.includes(find));
    if (i >= 0) setJump({ line: i + 1, seq });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text === null, find, seq]);

  const save = async () => {
    if (text === null) return;
    setStatus({ kind: 'busy', text: 'Checking and saving…' });
    try {
      const res = await apiRaw(`/v1/admin/config/${file}`, { method: 'PUT', body: text, contentType: 'application/yaml' });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        setProblems([]);
        setStatus({ kind: 'ok', text: `Saved and reloaded${body.catalog_version ? `: catalog version ${body.catalog_version}` : ''}. Decisions now use it.` });
        onSaved();
        return;
      }
      const ps: Problem[] = (body.problems ?? []).map((p: Problem) => p);
      setProblems(ps);
      const msg = body.error?.message ?? `${res.status} ${res.statusText}`;
      setStatus({ kind: 'error', text: ps.length > 0 ? `Not saved: ${ps.length} problem${ps.length > 1 ? 's' : ''}. The running configuration stays in use.` : `Not saved: ${msg}` });
      if (ps[0]) setJump({ line: ps[0].line, seq: Date.now() });
    } catch (e) {
      setStatus({ kind: 'error', text: (e as ApiError).message });
    }
  };

  return (
    <Section
      title={`Editing ${file}`}
      id="h-editor"
      actions={
        <div class="row">
          <button type="button" class="primary" onClick={save} disabled={text === null || status?.kind === 'busy'}>
            Check, save and reload
          </button>
          <button type="button" onClick={() => loaded.reload()}>
            Revert
          </button>
          <button type="button" class="ghost" onClick={onClose}>
            Close
          </button>
        </div>
      }
    >
      {loaded.error && <ErrorBox error={loaded.error} retry={loaded.reload} />}
      {text === null && !loaded.error && <Loading what={file} />}
      {text !== null && (
        <>
          <YamlEditor value={text} onInput={setText} problems={problems} label={`${file} contents`} jumpTo={jump} />
          {status && (
            <p class={'status ' + status.kind} role={status.kind === 'error' ? 'alert' : 'status'}>
              {status.text}
            </p>
          )}
          {problems.length > 0 && (
            <ul id="editor-problems" class="problems" aria-label="Problems">
              {problems.map((p, i) => (
                <li key={i}>
                  <button type="button" class="link" onClick={() => setJump({ line: p.line, seq: Date.now() })}>
                    {p.file ?? file}:{p.line}
                    {p.column ? ':' + p.column : ''}
                  </button>{' '}
                  {p.message}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Section>
  );
}

// One line per action: the best model's AUC, positives of responses over its channels; each
// channel's figures in the tooltip.
function ModelCell({ models }: { models: ModelHealth[] }) {
  if (models.length === 0) return <span class="muted">no model</span>;
  const responses = models.reduce((n, m) => n + m.responses, 0);
  const positives = models.reduce((n, m) => n + m.positives, 0);
  const learned = models.filter((m) => m.responses > 0);
  const best = learned.reduce<ModelHealth | null>((b, m) => (b === null || (m.auc ?? 0) > (b.auc ?? 0) ? m : b), null);
  const flags = [...new Set(models.flatMap((m) => m.flags ?? []))];
  const detail = models.map((m) => `${m.channel}: AUC ${m.auc === null ? '—' : num(m.auc, 2)}, ${m.positives}/${m.responses} positive${m.flags?.length ? ' (' + m.flags.join(', ') + ')' : ''}`).join('\n');
  return (
    <span title={detail}>
      {responses === 0 ? (
        <span class="muted">no responses yet ({models.length} channel{models.length > 1 ? 's' : ''})</span>
      ) : (
        <>
          AUC {best?.auc === null || best?.auc === undefined ? '—' : num(best.auc, 2)} ({best?.channel}) · {big(positives)}/{big(responses)} positive
        </>
      )}
      {flags.length > 0 && responses > 0 && <span class="pill warn">{label(flags[0])}</span>}
    </span>
  );
}
